module github.com/simpleos/simpleos

go 1.26

require (
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/usbarmory/tamago v1.26.0 // indirect
)

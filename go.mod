module github.com/simpleos/simpleos

go 1.26.0

require (
	github.com/cilium/ebpf v0.22.0
	github.com/google/shlex v0.0.0-20191202100458-e7afc7fbc510
	github.com/stretchr/testify v1.12.1
	github.com/usbarmory/tamago v1.26.0
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.43.0 // indirect
)

package boot

// PPM, the format QEMU's screendump writes: "P6", width, height and the maximum sample value
// as ASCII decimals separated by whitespace (with '#' comments), one whitespace byte, then
// the pixels as RGB triples, one byte per sample when the maximum is below 256, two
// (big-endian) otherwise.

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
)

// maxPPMPixels bounds the images DecodePPM accepts (a 4K display is 8.3 million).
const maxPPMPixels = 1 << 25

// DecodePPM reads a binary PPM (P6) image.
func DecodePPM(r io.Reader) (image.Image, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, 2)
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != "P6" {
		return nil, errors.New("ppm: not a binary PPM (P6) image")
	}
	var dims [3]int
	for i := range dims {
		v, err := ppmNumber(br)
		if err != nil {
			return nil, err
		}
		dims[i] = v
	}
	w, h, maxval := dims[0], dims[1], dims[2]
	switch {
	case w <= 0 || h <= 0 || w*h > maxPPMPixels:
		return nil, fmt.Errorf("ppm: bad size %dx%d", w, h)
	case maxval <= 0 || maxval > 65535:
		return nil, fmt.Errorf("ppm: bad maximum sample value %d", maxval)
	}
	// ppmNumber consumed the single whitespace byte after the maximum value.
	bps := 1
	if maxval > 255 {
		bps = 2
	}
	row := make([]byte, w*3*bps)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	scale := func(v int) uint8 { return uint8((v*255 + maxval/2) / maxval) }
	for y := 0; y < h; y++ {
		if _, err := io.ReadFull(br, row); err != nil {
			return nil, fmt.Errorf("ppm: pixels of row %d: %w", y, err)
		}
		for x := 0; x < w; x++ {
			var s [3]int
			for k := range s {
				if bps == 1 {
					s[k] = int(row[x*3+k])
				} else {
					s[k] = int(row[(x*3+k)*2])<<8 | int(row[(x*3+k)*2+1])
				}
			}
			img.SetRGBA(x, y, color.RGBA{scale(s[0]), scale(s[1]), scale(s[2]), 0xff})
		}
	}
	return img, nil
}

// ppmNumber skips whitespace and comments, reads a decimal number and the one whitespace
// byte that ends it.
func ppmNumber(br *bufio.Reader) (int, error) {
	c, err := br.ReadByte()
	for err == nil && (isPPMSpace(c) || c == '#') {
		if c == '#' {
			_, err = br.ReadString('\n')
			if err != nil {
				break
			}
		}
		c, err = br.ReadByte()
	}
	if err != nil {
		return 0, errors.New("ppm: header ends early")
	}
	v, digits := 0, 0
	for ; err == nil && c >= '0' && c <= '9'; c, err = br.ReadByte() {
		if v > 1<<24 {
			return 0, errors.New("ppm: number too large in the header")
		}
		v = v*10 + int(c-'0')
		digits++
	}
	switch {
	case digits == 0:
		return 0, fmt.Errorf("ppm: %q where a number belongs in the header", c)
	case err != nil:
		return 0, errors.New("ppm: header ends early")
	case !isPPMSpace(c):
		return 0, fmt.Errorf("ppm: %q after a number in the header", c)
	}
	return v, nil
}

func isPPMSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// PPMToPNG converts the PPM file in to a PNG file out.
func PPMToPNG(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	img, err := DecodePPM(f)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := png.Encode(o, img); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}

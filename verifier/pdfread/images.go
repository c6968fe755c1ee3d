package pdfread

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
)

// MaxImagePixels bounds one image XObject.
const MaxImagePixels = 48 << 20

// Images returns the image XObjects it can decode, as luminance images
// (that is all a QR reader needs), in object order. Images in colour spaces
// or encodings it does not know (JBIG2, JPX, CCITT, Lab…) are skipped.
func (d *Document) Images() []image.Image {
	var out []image.Image
	for _, num := range d.sortedNums() {
		s, ok := d.objects[num].(*stream)
		if !ok || s.dict["Subtype"] != name("Image") {
			continue
		}
		if img, err := d.image(s); err == nil {
			out = append(out, img)
		}
	}
	return out
}

func (d *Document) image(s *stream) (image.Image, error) {
	w, _ := d.resolve(s.dict["Width"]).(int64)
	h, _ := d.resolve(s.dict["Height"]).(int64)
	if w <= 0 || h <= 0 || w > 1<<15 || h > 1<<15 || w*h > MaxImagePixels {
		return nil, fmt.Errorf("bad image size %dx%d", w, h)
	}
	data, err := d.decodeStream(s)
	if err != nil {
		return nil, err
	}
	filters, _ := d.filters(s.dict)
	if n := len(filters); n > 0 && (filters[n-1] == "DCTDecode" || filters[n-1] == "DCT") {
		return jpeg.Decode(bytes.NewReader(data))
	}
	mask, _ := s.dict["ImageMask"].(bool)
	bpc, _ := d.resolve(s.dict["BitsPerComponent"]).(int64)
	if mask {
		bpc = 1
	}
	if bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 {
		return nil, fmt.Errorf("unsupported bits per component %d", bpc)
	}
	var toGray func(samples []int) uint8
	comps := 1
	switch {
	case mask:
		// Sample 0 paints (black), 1 leaves the page (white).
		toGray = func(v []int) uint8 { return uint8(v[0] * 255) }
	default:
		comps, toGray, err = d.colorSpace(d.resolve(s.dict["ColorSpace"]), int(bpc))
		if err != nil {
			return nil, err
		}
	}
	if dec, ok := d.resolve(s.dict["Decode"]).(array); ok && len(dec) >= 2 && comps == 1 {
		if lo, _ := dec[0].(int64); lo == 1 {
			inner := toGray
			maxv := 1<<bpc - 1
			toGray = func(v []int) uint8 { return inner([]int{maxv - v[0]}) }
		}
	}
	rowBits := int(w) * comps * int(bpc)
	rowLen := (rowBits + 7) / 8
	if len(data) < rowLen*int(h) {
		return nil, fmt.Errorf("image data too short")
	}
	img := image.NewGray(image.Rect(0, 0, int(w), int(h)))
	samples := make([]int, comps)
	for y := 0; y < int(h); y++ {
		row := data[y*rowLen : (y+1)*rowLen]
		bit := 0
		for x := 0; x < int(w); x++ {
			for c := 0; c < comps; c++ {
				samples[c] = readBits(row, bit, int(bpc))
				bit += int(bpc)
			}
			img.Pix[y*img.Stride+x] = toGray(samples)
		}
	}
	return img, nil
}

func readBits(row []byte, bit, n int) int {
	if n == 8 {
		return int(row[bit/8])
	}
	b := row[bit/8]
	shift := 8 - n - bit%8
	return int(b>>shift) & (1<<n - 1)
}

// colorSpace returns the number of components and a sample-to-luminance
// function for the spaces certificate PDFs use.
func (d *Document) colorSpace(cs any, bpc int) (int, func([]int) uint8, error) {
	maxv := 1<<bpc - 1
	scale := func(v int) int { return v * 255 / maxv }
	switch c := cs.(type) {
	case name:
		switch c {
		case "DeviceGray", "G", "CalGray":
			return 1, func(v []int) uint8 { return uint8(scale(v[0])) }, nil
		case "DeviceRGB", "RGB", "CalRGB":
			return 3, func(v []int) uint8 { return uint8((299*scale(v[0]) + 587*scale(v[1]) + 114*scale(v[2])) / 1000) }, nil
		case "DeviceCMYK", "CMYK":
			return 4, func(v []int) uint8 {
				k := scale(v[3])
				r, g, b := (255-scale(v[0]))*(255-k)/255, (255-scale(v[1]))*(255-k)/255, (255-scale(v[2]))*(255-k)/255
				return uint8((299*r + 587*g + 114*b) / 1000)
			}, nil
		}
	case array:
		if len(c) == 0 {
			break
		}
		kind, _ := d.resolve(c[0]).(name)
		switch kind {
		case "ICCBased":
			if len(c) < 2 {
				break
			}
			s, ok := d.resolve(c[1]).(*stream)
			if !ok {
				break
			}
			n, _ := s.dict["N"].(int64)
			alt := map[int64]name{1: "DeviceGray", 3: "DeviceRGB", 4: "DeviceCMYK"}[n]
			if alt == "" {
				break
			}
			return d.colorSpace(alt, bpc)
		case "Indexed", "I":
			if len(c) < 4 {
				break
			}
			baseComps, baseGray, err := d.colorSpace(d.resolve(c[1]), 8)
			if err != nil {
				return 0, nil, err
			}
			var lookup []byte
			switch l := d.resolve(c[3]).(type) {
			case str:
				lookup = l
			case *stream:
				if lookup, err = d.decodeStream(l); err != nil {
					return 0, nil, err
				}
			}
			hival, _ := d.resolve(c[2]).(int64)
			if hival < 0 || hival > 255 {
				break
			}
			table := make([]uint8, hival+1)
			for i := range table {
				off := i * baseComps
				if off+baseComps > len(lookup) {
					break
				}
				v := make([]int, baseComps)
				for j := range v {
					v[j] = int(lookup[off+j])
				}
				table[i] = baseGray(v)
			}
			return 1, func(v []int) uint8 {
				if v[0] < len(table) {
					return table[v[0]]
				}
				return 255
			}, nil
		}
	}
	return 0, nil, fmt.Errorf("unsupported colour space %v", cs)
}

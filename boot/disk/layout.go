package disk

import (
	"encoding/binary"
	"fmt"
	"io"
)

// go-diskfs v1.9.4 sizes each FAT for the data clusters alone, forgetting the two reserved
// entries at its start: for most sizes (64 MiB among them) the FAT then covers two clusters
// fewer than the boot sector declares, and Linux ("count of clusters too big") and mtools
// ("Too few sectors in FAT") refuse the file system. fat32Size gives go-diskfs a file-system
// size a few sectors short of the image for which its layout is valid; the sectors after it
// stay unused. checkFAT32 then reads the boot sector back and checks the layout, whatever the
// library did.

// fat32Size returns the largest file-system size, at most size, for which go-diskfs's FAT32
// layout gives each FAT an entry for every cluster.
func fat32Size(size int64) int64 {
	for total := size / sectorSize; total > 0; total-- {
		if fatCovers(layoutOf(total, sectorsPerCluster(size))) {
			return total * sectorSize
		}
	}
	return size
}

// layout is the part of a FAT32 boot sector that decides the geometry.
type layout struct {
	reserved, fats, sectorsPerCluster, sectorsPerFat, totalSectors int64
	bytesPerSector                                                 int64
}

func (l layout) clusters() int64 {
	return (l.totalSectors - l.reserved - l.fats*l.sectorsPerFat) / l.sectorsPerCluster
}

// fatCovers reports whether each FAT has an entry for the two reserved ones and every cluster.
func fatCovers(l layout) bool {
	return l.clusters() > 0 && l.sectorsPerFat*l.bytesPerSector/4 >= l.clusters()+2
}

// layoutOf is go-diskfs's FAT32 layout for a file system of total 512-byte sectors (fat32.Create).
func layoutOf(total, spc int64) layout {
	const reserved = 32
	denom := sectorSize*spc + 8
	return layout{
		reserved: reserved, fats: 2, sectorsPerCluster: spc, totalSectors: total, bytesPerSector: sectorSize,
		sectorsPerFat: (4*(total-reserved) + denom - 1) / denom,
	}
}

// sectorsPerCluster is go-diskfs's cluster size for a volume of size bytes, in sectors.
func sectorsPerCluster(size int64) int64 {
	switch {
	case size <= 260<<20:
		return 1
	case size <= 8<<30:
		return 8
	case size <= 16<<30:
		return 16
	case size <= 32<<30:
		return 32
	}
	return 64
}

// checkFAT32 reads the boot sector at the start of r and checks that its FAT32 geometry is one
// every reader accepts: enough clusters to be FAT32 and a FAT with an entry for each.
func checkFAT32(r io.ReaderAt) error {
	b := make([]byte, sectorSize)
	if _, err := r.ReadAt(b, 0); err != nil {
		return fmt.Errorf("reading the boot sector: %w", err)
	}
	le := binary.LittleEndian
	l := layout{
		bytesPerSector:    int64(le.Uint16(b[11:])),
		sectorsPerCluster: int64(b[13]),
		reserved:          int64(le.Uint16(b[14:])),
		fats:              int64(b[16]),
		totalSectors:      int64(le.Uint32(b[32:])),
		sectorsPerFat:     int64(le.Uint32(b[36:])),
	}
	switch {
	case b[510] != 0x55 || b[511] != 0xaa || l.bytesPerSector == 0 || l.sectorsPerCluster == 0:
		return fmt.Errorf("no valid boot sector written")
	case !fatCovers(l):
		return fmt.Errorf("each FAT (%d sectors) is too small for %d clusters", l.sectorsPerFat, l.clusters())
	case l.clusters() < 65525:
		return fmt.Errorf("%d clusters: too few for FAT32", l.clusters())
	}
	return nil
}

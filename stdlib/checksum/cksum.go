package checksum

import (
	"encoding/binary"
	"hash"
)

// cksum is the CRC of POSIX cksum(1): CRC-32 with polynomial 0x04C11DB7,
// most significant bit first, over the data and then its length in as few
// bytes as it takes (least significant first), complemented. It is not
// hash/crc32's IEEE CRC, which is the reflected form of the same polynomial
// and leaves the length out.
type cksum struct {
	crc uint32
	n   uint64
}

var _ hash.Hash32 = (*cksum)(nil)

// cksumTables are constants, computed once: the byte-wise CRC table and
// its slicing-by-8 extensions, which take eight bytes a step (about four
// times the byte-wise speed, so cksum does not slow staging more than MD5).
var cksumTables = func() (t [8][256]uint32) {
	for i := range t[0] {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < 8; k++ {
		for i := range t[k] {
			c := t[k-1][i]
			t[k][i] = c<<8 ^ t[0][c>>24]
		}
	}
	return t
}()

func (c *cksum) Write(p []byte) (int, error) {
	t := &cksumTables
	crc, n := c.crc, len(p)
	c.n += uint64(n)
	for len(p) >= 8 {
		crc ^= binary.BigEndian.Uint32(p)
		crc = t[7][crc>>24] ^ t[6][byte(crc>>16)] ^ t[5][byte(crc>>8)] ^ t[4][byte(crc)] ^
			t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]]
		p = p[8:]
	}
	for _, b := range p {
		crc = crc<<8 ^ t[0][byte(crc>>24)^b]
	}
	c.crc = crc
	return n, nil
}

func (c *cksum) Sum32() uint32 {
	crc := c.crc
	for n := c.n; n != 0; n >>= 8 {
		crc = crc<<8 ^ cksumTables[0][byte(crc>>24)^byte(n)]
	}
	return ^crc
}

func (c *cksum) Sum(b []byte) []byte { return binary.BigEndian.AppendUint32(b, c.Sum32()) }
func (c *cksum) Reset()              { *c = cksum{} }
func (c *cksum) Size() int           { return 4 }
func (c *cksum) BlockSize() int      { return 1 }

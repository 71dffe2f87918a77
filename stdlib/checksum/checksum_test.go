package checksum

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
)

// Known vectors, from the coreutils commands (md5sum, sha1sum, sha256sum,
// sha512sum, cksum).
var vectors = []struct {
	in   string
	alg  Algorithm
	want string
}{
	{"hello\n", MD5, "b1946ac92492d2347c6235b4d2611184"},
	{"hello\n", SHA1, "f572d396fae9206628714fb2ce00f72e94f2258f"},
	{"hello\n", SHA256, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"},
	{"hello\n", SHA512, "e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629"},
	{"hello\n", Cksum, "3015617425"},
	{"", Cksum, "4294967295"},
	{"123456789", Cksum, "930766865"},
	{"", MD5, "d41d8cd98f00b204e9800998ecf8427e"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		h := New(v.alg)
		h.Write([]byte(v.in))
		if got := Format(v.alg, h.Sum(nil)); got != v.want {
			t.Errorf("%s(%q) = %s, want %s", v.alg, v.in, got, v.want)
		}
		if h.Size() != v.alg.Size() {
			t.Errorf("%s: hash size %d, Algorithm.Size %d", v.alg, h.Size(), v.alg.Size())
		}
	}
}

func TestNewPanicsOnAnUnknownAlgorithm(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(crc32c) did not panic")
		}
	}()
	New("crc32c")
}

// Values printed by GNU coreutils cksum(1).
func TestCksumMatchesPOSIXCksum(t *testing.T) {
	for _, tc := range []struct {
		data []byte
		want uint32
	}{
		{nil, 4294967295},
		{[]byte("123456789"), 930766865},
		{[]byte("hello\n"), 3015617425},
		{make([]byte, 100000), 1260869142},
	} {
		var c cksum
		c.Write(tc.data)
		if got := c.Sum32(); got != tc.want {
			t.Errorf("cksum of %d bytes = %d, want %d", len(tc.data), got, tc.want)
		}
		// Split writes give the same sum.
		c.Reset()
		for _, b := range tc.data {
			c.Write([]byte{b})
		}
		if got := c.Sum32(); got != tc.want {
			t.Errorf("cksum of %d bytes written one by one = %d, want %d", len(tc.data), got, tc.want)
		}
	}
}

// TestCksumWritesInPieces checks that the CRC does not depend on how the
// stream is cut, as it is when streamed from S3, and that Reset starts over.
func TestCksumWritesInPieces(t *testing.T) {
	data := bytes.Repeat([]byte("granule bytes\x00\xff"), 5000)
	whole := New(Cksum)
	whole.Write(data)
	pieces := New(Cksum)
	for i := 0; i < len(data); i += 777 {
		pieces.Write(data[i:min(i+777, len(data))])
	}
	if a, b := Format(Cksum, whole.Sum(nil)), Format(Cksum, pieces.Sum(nil)); a != b {
		t.Errorf("whole %s, in pieces %s", a, b)
	}
	pieces.Reset()
	pieces.Write([]byte("hello\n"))
	if got := Format(Cksum, pieces.Sum(nil)); got != "3015617425" {
		t.Errorf("after Reset: %s", got)
	}
}

// The eight-bytes-a-step path agrees with the byte-wise one, whatever the
// alignment and split of the writes.
func TestCksumSlicingMatchesBytewise(t *testing.T) {
	data := make([]byte, 4099)
	for i := range data {
		data[i] = byte(i*7919 + i>>3)
	}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 1000, 4099} {
		var whole, split, bytewise cksum
		whole.Write(data[:n])
		for i := 0; i < n; i += 13 {
			split.Write(data[i:min(i+13, n)])
		}
		for _, b := range data[:n] {
			bytewise.Write([]byte{b})
		}
		if whole.Sum32() != bytewise.Sum32() || split.Sum32() != bytewise.Sum32() {
			t.Errorf("%d bytes: whole %d, split %d, byte-wise %d", n, whole.Sum32(), split.Sum32(), bytewise.Sum32())
		}
	}
	if n, _ := new(cksum).Write(data); n != len(data) {
		t.Errorf("Write returned %d for %d bytes", n, len(data))
	}
}

// TestCksumMatchesCommand compares with the system's cksum over data long
// enough that the length takes several bytes, when the command is there.
func TestCksumMatchesCommand(t *testing.T) {
	path, err := exec.LookPath("cksum")
	if err != nil {
		t.Skip("no cksum command on this machine; the vectors above still hold")
	}
	data := bytes.Repeat([]byte{0, 1, 2, 250, 251, 252, '\n'}, 70001)
	cmd := exec.Command(path)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	h := New(Cksum)
	h.Write(data)
	if got, want := Format(Cksum, h.Sum(nil)), strings.Fields(string(out))[0]; got != want {
		t.Errorf("cksum = %s, the command says %s", got, want)
	}
}

func BenchmarkHash(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for _, alg := range Algorithms() {
		b.Run(string(alg), func(b *testing.B) {
			h := New(alg)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				h.Reset()
				h.Write(data)
				_ = Format(alg, h.Sum(nil))
			}
		})
	}
}

func TestParseAlgorithm(t *testing.T) {
	for in, want := range map[string]Algorithm{
		"md5": MD5, "MD5": MD5, "SHA-1": SHA1, "sha256": SHA256, "SHA_256": SHA256,
		" SHA-512 ": SHA512, "CKSUM": Cksum,
	} {
		if got, err := ParseAlgorithm(in); err != nil || got != want {
			t.Errorf("ParseAlgorithm(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "crc32", "sha3"} {
		if _, err := ParseAlgorithm(in); err == nil || !strings.Contains(err.Error(), "md5, sha1, sha256, sha512 or cksum") {
			t.Errorf("ParseAlgorithm(%q): %v, want an error listing the algorithms", in, err)
		}
	}
	for _, a := range Algorithms() {
		if got, err := ParseAlgorithm(string(a)); err != nil || got != a {
			t.Errorf("ParseAlgorithm(%q) = %q, %v", a, got, err)
		}
	}
}

func TestNormalize(t *testing.T) {
	data := []byte("granule data")
	m := md5.Sum(data)
	s := sha256.Sum256(data)
	for _, tc := range []struct {
		in   Checksum
		want Checksum
	}{
		{Checksum{"MD5", strings.ToUpper(hex.EncodeToString(m[:]))}, Checksum{MD5, hex.EncodeToString(m[:])}},
		{Checksum{"SHA-256", base64.StdEncoding.EncodeToString(s[:])}, Checksum{SHA256, hex.EncodeToString(s[:])}},
		{Checksum{"cksum", " 0930766865 "}, Checksum{Cksum, "930766865"}},
	} {
		got, err := Normalize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%v) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []Checksum{
		{"md5", "abc"},                       // too short
		{"sha256", hex.EncodeToString(m[:])}, // an md5 given as sha256
		{"cksum", "ffff"},                    // not decimal
		{"cksum", "4294967296"},              // over 32 bits
		{"crc", "00"},
		{"", "abc"},
	} {
		if _, err := Normalize(in); err == nil {
			t.Errorf("Normalize(%v) accepted it", in)
		}
	}
}

func TestEqual(t *testing.T) {
	m := md5.Sum([]byte("hello\n"))
	if !Equal(MD5, "B1946AC92492D2347C6235B4D2611184", "b1946ac92492d2347c6235b4d2611184") {
		t.Error("hex case should not matter")
	}
	if !Equal(MD5, base64.StdEncoding.EncodeToString(m[:]), "b1946ac92492d2347c6235b4d2611184") {
		t.Error("base64 and hex of one sum should match")
	}
	if !Equal(Cksum, "0930766865", "930766865") {
		t.Error("zero padding of a decimal CRC should not matter")
	}
	if Equal(Cksum, "x", "x") || Equal(MD5, "x", "x") {
		t.Error("a value that is not a checksum matches nothing")
	}
	if Equal(MD5, "b1946ac92492d2347c6235b4d2611184", "d41d8cd98f00b204e9800998ecf8427e") {
		t.Error("different sums matched")
	}
}

func TestInferHex(t *testing.T) {
	for in, want := range map[string]Algorithm{
		strings.Repeat("a", 32): MD5, strings.Repeat("B", 40): SHA1,
		strings.Repeat("0", 64): SHA256, strings.Repeat("f", 128): SHA512,
	} {
		if got, ok := InferHex(in); !ok || got != want {
			t.Errorf("InferHex(%d digits) = %q, %v; want %q", len(in), got, ok, want)
		}
	}
	for _, in := range []string{"", "abc", strings.Repeat("g", 32), strings.Repeat("0", 33), "930766865"} {
		if got, ok := InferHex(in); ok {
			t.Errorf("InferHex(%q) = %q", in, got)
		}
	}
}

package builtin

import (
	"bytes"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// Known vectors, from the coreutils commands (md5sum, sha1sum, sha256sum,
// sha512sum, cksum).
var vectors = []struct {
	in   string
	alg  string
	want string
}{
	{"hello\n", "md5", "b1946ac92492d2347c6235b4d2611184"},
	{"hello\n", "sha1", "f572d396fae9206628714fb2ce00f72e94f2258f"},
	{"hello\n", "sha256", "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"},
	{"hello\n", "sha512", "e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629"},
	{"hello\n", "cksum", "3015617425"},
	{"", "cksum", "4294967295"},
	{"123456789", "cksum", "930766865"},
	{"", "md5", "d41d8cd98f00b204e9800998ecf8427e"},
}

func TestHashVectors(t *testing.T) {
	for _, v := range vectors {
		h, err := newHash(v.alg)
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(v.in))
		if got := sumString(v.alg, h); got != v.want {
			t.Errorf("%s(%q) = %s, want %s", v.alg, v.in, got, v.want)
		}
	}
	if _, err := newHash("crc32c"); err == nil {
		t.Error("an unknown algorithm should be refused")
	}
}

// TestCksumWritesInPieces checks that the CRC does not depend on how the
// stream is cut, as it is when streamed from S3.
func TestCksumWritesInPieces(t *testing.T) {
	data := bytes.Repeat([]byte("granule bytes\x00\xff"), 5000)
	whole, _ := newHash("cksum")
	whole.Write(data)
	pieces, _ := newHash("cksum")
	for i := 0; i < len(data); i += 777 {
		pieces.Write(data[i:min(i+777, len(data))])
	}
	if a, b := sumString("cksum", whole), sumString("cksum", pieces); a != b {
		t.Errorf("whole %s, in pieces %s", a, b)
	}
	pieces.Reset()
	pieces.Write([]byte("hello\n"))
	if got := sumString("cksum", pieces); got != "3015617425" {
		t.Errorf("after Reset: %s", got)
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
	h, _ := newHash("cksum")
	h.Write(data)
	if want := strings.Fields(string(out))[0]; sumString("cksum", h) != want {
		t.Errorf("cksum = %s, the command says %s", sumString("cksum", h), want)
	}
}

func TestSameSum(t *testing.T) {
	if !sameSum("md5", "B1946AC92492D2347C6235B4D2611184", "b1946ac92492d2347c6235b4d2611184") {
		t.Error("hex case should not matter")
	}
	if !sameSum("cksum", "0930766865", "930766865") {
		t.Error("zero padding of a decimal CRC should not matter")
	}
	if sameSum("cksum", "x", "x") {
		t.Error("a CRC that is not a number matches nothing")
	}
}

func TestParseSidecar(t *testing.T) {
	const md5 = "b1946ac92492d2347c6235b4d2611184"
	const sha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
	tests := []struct {
		name, file, content string
		want                []sidecarSum
		err                 string
	}{
		{"md5sum", "x.nc.md5", md5 + "  x.nc\n", []sidecarSum{{"md5", md5, "x.nc"}}, ""},
		{"binary mode", "x.nc.md5", md5 + " *x.nc\n", []sidecarSum{{"md5", md5, "x.nc"}}, ""},
		{"bare", "x.nc.md5", strings.ToUpper(md5) + "\n", []sidecarSum{{"md5", md5, ""}}, ""},
		{"name with spaces", "x.md5", md5 + "  my file.nc", []sidecarSum{{"md5", md5, "my file.nc"}}, ""},
		{"sha256sum", "x.nc.sha256", sha256 + "  ./x.nc", []sidecarSum{{"sha256", sha256, "./x.nc"}}, ""},
		{"bsd", "x.nc.chk", "SHA256 (x.nc) = " + sha256, []sidecarSum{{"sha256", sha256, "x.nc"}}, ""},
		{"cksum", "x.nc.cksum", "3015617425 6 x.nc", []sidecarSum{{"cksum", "3015617425", "x.nc"}}, ""},
		{"cksum, name like the size", "x.cksum", "12 1 1", []sidecarSum{{"cksum", "12", "1"}}, ""},
		{"cksum bare", "x.txt", "3015617425", []sidecarSum{{"cksum", "3015617425", ""}}, ""},
		{"several files, comments", "SUMS", "# sums\n" + md5 + "  a.nc\n\n" + md5 + "  b.nc\n",
			[]sidecarSum{{"md5", md5, "a.nc"}, {"md5", md5, "b.nc"}}, ""},
		{"extension disagrees", "x.nc.md5", sha256 + "  x.nc", nil, "extension says md5"},
		{"not a checksum", "x.nc.md5", "<html>Not Found</html>", nil, "not a checksum"},
		{"empty", "x.nc.md5", "\n\n", nil, "no checksum"},
		{"CRC too large", "x.cksum", "99999999999 6 x.nc", nil, "32-bit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSidecar([]byte(tt.content), tt.file)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSumFor(t *testing.T) {
	sums := []sidecarSum{{"md5", "aa", "dir/a.nc"}, {"md5", "bb", "./b.nc"}}
	if s, ok := sumFor(sums, "b.nc"); !ok || s.Value != "bb" {
		t.Errorf("b.nc: %+v %v", s, ok)
	}
	if _, ok := sumFor(sums, "c.nc"); ok {
		t.Error("c.nc is named nowhere")
	}
	if s, ok := sumFor([]sidecarSum{{"md5", "cc", ""}}, "c.nc"); !ok || s.Value != "cc" {
		t.Error("a bare value applies to any file")
	}
}

package checksum

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSidecar(t *testing.T) {
	const md5 = "b1946ac92492d2347c6235b4d2611184"
	const sha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
	tests := []struct {
		name, file, content string
		want                []SidecarSum
		err                 string
	}{
		{"md5sum", "x.nc.md5", md5 + "  x.nc\n", []SidecarSum{{MD5, md5, "x.nc"}}, ""},
		{"binary mode", "x.nc.md5", md5 + " *x.nc\n", []SidecarSum{{MD5, md5, "x.nc"}}, ""},
		{"bare", "x.nc.md5", strings.ToUpper(md5) + "\n", []SidecarSum{{MD5, md5, ""}}, ""},
		{"name with spaces", "x.md5", md5 + "  my file.nc", []SidecarSum{{MD5, md5, "my file.nc"}}, ""},
		{"sha256sum", "x.nc.sha256", sha256 + "  ./x.nc", []SidecarSum{{SHA256, sha256, "./x.nc"}}, ""},
		{"bsd", "x.nc.chk", "SHA256 (x.nc) = " + sha256, []SidecarSum{{SHA256, sha256, "x.nc"}}, ""},
		{"bsd, upper-case hex", "x.nc.chk", "MD5 (x.nc) = " + strings.ToUpper(md5), []SidecarSum{{MD5, md5, "x.nc"}}, ""},
		{"bsd, dashed tag", "x.nc.sha256", "SHA-256 (my file.nc) = " + sha256, []SidecarSum{{SHA256, sha256, "my file.nc"}}, ""},
		{"cksum", "x.nc.cksum", "3015617425 6 x.nc", []SidecarSum{{Cksum, "3015617425", "x.nc"}}, ""},
		{"cksum, name like the size", "x.cksum", "12 1 1", []SidecarSum{{Cksum, "12", "1"}}, ""},
		{"cksum bare", "x.txt", "3015617425", []SidecarSum{{Cksum, "3015617425", ""}}, ""},
		{"cksum zero-padded", "x.cksum", "0930766865 9 x.nc", []SidecarSum{{Cksum, "930766865", "x.nc"}}, ""},
		{"several files, comments", "SUMS", "# sums\n" + md5 + "  a.nc\n\n" + md5 + "  b.nc\n",
			[]SidecarSum{{MD5, md5, "a.nc"}, {MD5, md5, "b.nc"}}, ""},
		{"extension disagrees", "x.nc.md5", sha256 + "  x.nc", nil, "extension says md5"},
		{"bsd tag disagrees", "x.nc.chk", "SHA1 (x.nc) = " + md5, nil, "not a checksum line"},
		{"not a checksum", "x.nc.md5", "<html>Not Found</html>", nil, "not a checksum"},
		{"not a cksum line", "x.cksum", md5 + "  x.nc", nil, "not a cksum line"},
		{"empty", "x.nc.md5", "\n\n", nil, "no checksum"},
		{"CRC too large", "x.cksum", "99999999999 6 x.nc", nil, "32-bit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSidecar([]byte(tt.content), tt.file)
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
	sums := []SidecarSum{{MD5, "aa", "dir/a.nc"}, {MD5, "bb", "./b.nc"}, {MD5, "dd", `sub\d.nc`}}
	if s, ok := SumFor(sums, "b.nc"); !ok || s.Value != "bb" {
		t.Errorf("b.nc: %+v %v", s, ok)
	}
	if s, ok := SumFor(sums, "d.nc"); !ok || s.Value != "dd" {
		t.Errorf("d.nc: %+v %v", s, ok)
	}
	if _, ok := SumFor(sums, "c.nc"); ok {
		t.Error("c.nc is named nowhere")
	}
	if s, ok := SumFor([]SidecarSum{{MD5, "cc", ""}}, "c.nc"); !ok || s.Value != "cc" {
		t.Error("a bare value applies to any file")
	}
}

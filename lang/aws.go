package lang

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// What AWS refuses, checked here so that mistakes surface at validate
// rather than halfway through a deploy. Sources: the Fargate task size table,
// the Lambda quotas page, and the service API models (tests in this package
// check the lists below against ../shared/aws-models where it is present).

// fargateMemory lists, per Fargate CPU units, the memory sizes (MiB) a task
// may have.
var fargateMemory = map[int][]int{
	256:   {512, 1024, 2048},
	512:   steps(1024, 4096, 1024),
	1024:  steps(2048, 8192, 1024),
	2048:  steps(4096, 16384, 1024),
	4096:  steps(8192, 30720, 1024),
	8192:  steps(16384, 61440, 4096),
	16384: steps(32768, 122880, 8192),
}

func steps(lo, hi, step int) []int {
	var out []int
	for m := lo; m <= hi; m += step {
		out = append(out, m)
	}
	return out
}

func fargateCPUs() []int {
	var cpus []int
	for c := range fargateMemory {
		cpus = append(cpus, c)
	}
	sort.Ints(cpus)
	return cpus
}

// fargateFix describes the memory sizes valid for cpu, for a Detail.
func fargateFix(cpu int) string {
	mem := fargateMemory[cpu]
	if len(mem) <= 3 {
		return fmt.Sprintf("With cpu = %d, memory must be one of %s", cpu, joinInts(mem))
	}
	return fmt.Sprintf("With cpu = %d, memory must be between %d and %d in steps of %d", cpu, mem[0], mem[len(mem)-1], mem[1]-mem[0])
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// Lambda limits.
const (
	lambdaMinMemory  = 128
	lambdaMaxMemory  = 10240
	lambdaMaxTimeout = 900 * time.Second
	lambdaMaxEnv     = 4096 // bytes of all environment keys and values
)

// lambdaRuntimes are the runtimes Lambda accepts for new functions (the
// deprecated ones of the API's enum are left out: creating them fails).
var lambdaRuntimes = []string{
	"dotnet8", "java17", "java21", "nodejs20.x", "nodejs22.x", "provided.al2", "provided.al2023",
	"python3.10", "python3.11", "python3.12", "python3.13", "ruby3.3", "ruby3.4",
}

// Name limits of the AWS resources cumulus creates from block names.
const (
	maxBucketName       = 63  // S3
	maxFunctionName     = 64  // Lambda
	maxFamily           = 255 // ECS task definition family
	maxStateMachineName = 80  // Step Functions
	maxRoleName         = 64  // IAM
	maxPrefix           = 32
)

var (
	prefixPattern        = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	regionPattern        = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)
	subnetPattern        = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	securityGroupPattern = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	snsTopicPattern      = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)
	envNamePattern       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	bucketNamePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)
	ipAddressPattern     = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$`)
	hostPattern          = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
	urlPrefixPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$`)
)

// logRetentionDays are the only retention periods CloudWatch Logs accepts.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// bucketNameProblem says what S3 would refuse in a bucket name, or "".
func bucketNameProblem(name string) string {
	switch {
	case len(name) < 3:
		return "it is shorter than 3 characters"
	case len(name) > maxBucketName:
		return fmt.Sprintf("it is %d characters long; S3 allows at most %d", len(name), maxBucketName)
	case !bucketNamePattern.MatchString(name):
		return "S3 bucket names contain only lowercase letters, digits, dots and hyphens, and begin and end with a letter or digit"
	case strings.Contains(name, ".."):
		return "it contains two adjacent dots"
	case ipAddressPattern.MatchString(name):
		return "it is formatted as an IP address"
	case strings.HasPrefix(name, "xn--"), strings.HasPrefix(name, "sthree-"):
		return "S3 reserves names that start with xn-- or sthree-"
	case strings.HasSuffix(name, "-s3alias"), strings.HasSuffix(name, "--ol-s3"):
		return "S3 reserves names that end with -s3alias or --ol-s3"
	}
	return ""
}

// FargateCPUFor returns the smallest Fargate CPU size that can have memory
// MiB, or 0 if none can: for tasks whose memory is given and whose CPU is not
// (the platform's own).
func FargateCPUFor(memory int) int {
	for _, cpu := range fargateCPUs() {
		if containsInt(fargateMemory[cpu], memory) {
			return cpu
		}
	}
	return 0
}

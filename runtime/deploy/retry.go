package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/smithy-go"
)

// Backoff bounds deploy's own retries of errors that mean "not yet" rather
// than "no" (eventual consistency), on top of the SDK retryer, which
// handles throttling and transient server errors.
type Backoff struct {
	Attempts int           // tries in all, at least 1
	Initial  time.Duration // first wait, doubled each time
	Max      time.Duration
}

// DefaultBackoff waits about two minutes in all: long enough for a new IAM
// role to become assumable by Lambda.
func DefaultBackoff() Backoff {
	return Backoff{Attempts: 8, Initial: time.Second, Max: 30 * time.Second}
}

// eventuallyConsistent says whether err is one of the AWS answers that a
// wait fixes: a role just created that Lambda cannot assume yet, a
// function whose previous update is still in progress, a bucket
// notification whose Lambda permission S3 cannot see yet.
func eventuallyConsistent(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	msg := ae.ErrorMessage()
	switch ae.ErrorCode() {
	case "InvalidParameterValueException":
		return strings.Contains(msg, "cannot be assumed by Lambda") || strings.Contains(msg, "role defined for the function")
	case "ResourceConflictException":
		return strings.Contains(msg, "update is in progress") || strings.Contains(msg, "operation cannot be performed at this time")
	case "AccessDeniedException":
		// Step Functions, before a new role is visible to it.
		return strings.Contains(msg, "authorized to assume the provided role")
	case "InvalidArgument":
		return strings.Contains(msg, "Unable to validate the following destination configurations")
	}
	return false
}

// retry calls f until it succeeds, fails with an error that is not
// eventually consistent, or b's attempts are used up.
func retry(ctx context.Context, b Backoff, what string, f func() error) error {
	wait := b.Initial
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || !eventuallyConsistent(err) {
			return err
		}
		if attempt >= b.Attempts {
			return fmt.Errorf("%s: still failing after %d attempts: %w", what, attempt, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (while retrying: %v)", what, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait *= 2
		if wait > b.Max {
			wait = b.Max
		}
	}
}

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

package engine

import "errors"

// ErrEnvironment is the one mark of a failure of the machine rather than of
// the input or of the system under test: no Docker engine, an image that
// would not build, a cluster that would not start, a node whose DNS or
// agent broke. errors.Is(err, ErrEnvironment) is how the CLI decides exit
// code 3 (unknown), wherever the error surfaced. It lives here, in the
// lowest package of the Docker backend, so the backend's own failures
// (ErrNoDocker, image.ErrBuild) and the runner's can all carry it.
var ErrEnvironment = errors.New("environment")

// Environmental returns a new sentinel error with the message msg that also
// matches ErrEnvironment, for a kind of environment failure that callers
// tell apart (ErrNoDocker, image.ErrBuild).
func Environmental(msg string) error { return &envSentinel{msg} }

type envSentinel struct{ msg string }

func (e *envSentinel) Error() string        { return e.msg }
func (e *envSentinel) Is(target error) bool { return target == ErrEnvironment }

// EnvironmentError wraps err, saying what was being done, so that
// errors.Is(err, ErrEnvironment) holds without the sentinel in the message.
func EnvironmentError(what string, err error) error { return &environmentError{what: what, err: err} }

type environmentError struct {
	what string
	err  error
}

func (e *environmentError) Error() string        { return e.what + ": " + e.err.Error() }
func (e *environmentError) Unwrap() error        { return e.err }
func (e *environmentError) Is(target error) bool { return target == ErrEnvironment }

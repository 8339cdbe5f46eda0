package zkproto

import (
	"errors"
	"fmt"
)

var errPlain = errors.New("plain")

func wrapErr(err error) error { return fmt.Errorf("create /a: %w", err) }

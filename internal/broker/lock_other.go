//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package broker

import "os"

// lockDir does nothing on platforms without flock; keeping two brokers off one
// directory is then up to the user.
func lockDir(string) (*os.File, error) { return nil, nil }

// unlockDir releases a lock taken by lockDir.
func unlockDir(*os.File) error { return nil }

//go:build !unix

package keys

import "io/fs"

// inodeOf has no inode to offer here; size and modification time still detect changes.
func inodeOf(fs.FileInfo) uint64 { return 0 }

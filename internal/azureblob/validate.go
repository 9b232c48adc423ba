package azureblob

// The input rules every blob adapter applies (see internal/blobtest). They
// are the same as fileblob's; adapters do not import each other.

import (
	"github.com/heraldreports/herald/internal/herald"
)

// checkPath refuses paths that are not valid blob paths.
func checkPath(p string) error {
	if err := herald.ValidBlobPath(p); err != nil {
		return herald.Wrap(err, herald.CodeInvalid, "invalid blob path")
	}
	return nil
}

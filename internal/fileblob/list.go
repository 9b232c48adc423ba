package fileblob

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/heraldreports/herald/internal/herald"
)

// entry is one child of a folder during a walk.
type entry struct {
	key string // the child's part of the path: "name" for a blob, "name/" for a folder
	dir bool
}

// List calls fn for every blob whose path starts with prefix, in path
// order. It reads one folder at a time.
func (s *Store) List(ctx context.Context, prefix string, fn func(herald.BlobInfo) error) error {
	if err := herald.CheckBlobPrefix(prefix); err != nil {
		return err
	}
	// Start in the deepest folder the prefix names whole; the rest of the
	// prefix filters that folder's children.
	dir, rest := ".", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir, rest = prefix[:i], prefix[i+1:]
	}
	return s.walk(ctx, dir, rest, fn)
}

// walk lists the blobs under folder dir ("." for the root) whose key
// starts with rest, in path order.
func (s *Store) walk(ctx context.Context, dir, rest string, fn func(herald.BlobInfo) error) error {
	if err := ctx.Err(); err != nil {
		return translate(ctx, err, "listing blobs")
	}
	children, err := s.children(dir, rest)
	if err != nil {
		return translate(ctx, err, "listing blobs")
	}
	for _, c := range children {
		p := c.key
		if dir != "." {
			p = dir + "/" + c.key
		}
		if c.dir {
			if err := s.walk(ctx, strings.TrimSuffix(p, "/"), "", fn); err != nil {
				return err
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return translate(ctx, err, "listing blobs")
		}
		f, info, err := s.open(ctx, p)
		if herald.Is(err, herald.CodeNotFound) {
			continue // deleted since we read the folder
		}
		if err != nil {
			return err
		}
		f.Close()
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// children reads folder dir and returns its blobs and folders whose key
// starts with rest, sorted by key: the order of their paths. Temp files
// and anything that is not a blob or a folder are left out. A missing
// folder (or a blob where a folder was expected) has no children.
func (s *Store) children(dir, rest string) ([]entry, error) {
	d, err := s.root.Open(filepath.FromSlash(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	des, err := d.ReadDir(-1)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return nil, nil
		}
		return nil, err
	}
	out := make([]entry, 0, len(des))
	for _, de := range des {
		e, ok := classify(de)
		if ok && strings.HasPrefix(e.key, rest) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// classify tells a blob file ("name@") from a folder; anything else (temp
// files, foreign files) is not ok.
func classify(de os.DirEntry) (entry, bool) {
	name := de.Name()
	if de.IsDir() {
		return entry{key: name + "/", dir: true}, herald.ValidBlobPath(name) == nil
	}
	seg, isBlob := strings.CutSuffix(name, blobSuffix)
	if !isBlob || !de.Type().IsRegular() || herald.ValidBlobPath(seg) != nil {
		return entry{}, false
	}
	return entry{key: seg}, true
}

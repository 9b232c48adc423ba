package fileblob

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// headerSize is the size of the header every blob file starts with.
const headerSize = 1024

// headerVersion marks a blob file's header.
const headerVersion = "blob/1"

// header is the JSON at the start of a blob file.
type header struct {
	Herald      string    `json:"herald"`
	ContentType string    `json:"contentType"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	Modified    time.Time `json:"modified"`
}

// blankHeader is the placeholder Put writes before the content.
func blankHeader() []byte { return bytes.Repeat([]byte{' '}, headerSize) }

// encodeHeader returns info's header: JSON padded with spaces to
// headerSize, the last byte a newline.
func encodeHeader(info herald.BlobInfo) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(header{
		Herald: headerVersion, ContentType: info.ContentType, SHA256: info.SHA256,
		Size: info.Size, Modified: info.Modified,
	})
	if err != nil {
		return nil, herald.Wrap(err, herald.CodeInternal, "encoding the header of blob %s", info.Path)
	}
	js := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if len(js) > headerSize-1 {
		// Unreachable: the content type is at most 255 printable bytes.
		return nil, herald.Errorf(herald.CodeInvalid, "the metadata of blob %s does not fit its header", info.Path)
	}
	out := blankHeader()
	copy(out, js)
	out[headerSize-1] = '\n'
	return out, nil
}

// readHeader reads the header of the open blob file f of path p and checks
// it against the file's size.
func readHeader(f *os.File, p string) (herald.BlobInfo, error) {
	buf := make([]byte, headerSize)
	if _, err := io.ReadFull(f, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return herald.BlobInfo{}, herald.Wrap(err, herald.CodeInternal, "blob %s is damaged: its header is cut short", p)
		}
		return herald.BlobInfo{}, herald.Wrap(err, herald.CodeUnavailable, "reading the header of blob %s", p)
	}
	var h header
	if err := json.Unmarshal(bytes.TrimRight(buf, " \n"), &h); err != nil || h.Herald != headerVersion {
		if err == nil {
			err = fmt.Errorf("header version %q", h.Herald)
		}
		return herald.BlobInfo{}, herald.Wrap(err, herald.CodeInternal, "blob %s is damaged: bad header", p)
	}
	st, err := f.Stat()
	if err != nil {
		return herald.BlobInfo{}, herald.Wrap(err, herald.CodeUnavailable, "reading blob %s", p)
	}
	if st.Size()-headerSize != h.Size {
		return herald.BlobInfo{}, herald.Errorf(herald.CodeInternal, "blob %s is damaged: %d bytes stored, %d in its header", p, st.Size()-headerSize, h.Size)
	}
	return herald.BlobInfo{Path: p, Size: h.Size, ContentType: h.ContentType, SHA256: h.SHA256, Modified: h.Modified.UTC()}, nil
}

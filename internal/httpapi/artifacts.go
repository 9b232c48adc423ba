package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/heraldreports/herald/internal/herald"
)

// ArtifactLinker issues short-lived signed download links for stored
// blobs. The URL it returns is a bearer secret: the API hands it to the
// caller and never logs or audits it.
type ArtifactLinker interface {
	SignedURL(ctx context.Context, path string, ttl time.Duration, link herald.BlobLink) (string, error)
}

type artifactLinkView struct {
	URL       string         `json:"url"`
	ExpiresAt herald.Instant `json:"expiresAt"`
	Artifact  artifactView   `json:"artifact"`
}

func viewArtifact(a herald.Artifact) artifactView {
	return artifactView{ID: a.ID, Format: a.Format, Name: a.Name, ContentType: a.ContentType, Size: a.Size,
		SHA256: a.SHA256, Rows: a.Rows, CreatedAt: a.CreatedAt, ExpiredAt: a.ExpiredAt}
}

// downloadArtifact serves GET /runs/{id}/artifacts/{artifactId}: a 302 to a
// signed link valid herald.ArtifactLinkTTL, or with ?redirect=false the link
// as JSON. Every issued link is audited, without the link itself.
func (s *Server) downloadArtifact(w http.ResponseWriter, r *http.Request) {
	if s.links == nil {
		writeError(w, r, herald.Errorf(herald.CodeUnavailable, "artifact downloads are not available"))
		return
	}
	redirect, err := redirectParam(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	p, run, err := s.runs().load(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	art, err := findArtifact(run, chi.URLParam(r, "artifactId"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	expires := herald.At(s.now().Add(herald.ArtifactLinkTTL))
	url, err := s.links.SignedURL(r.Context(), herald.ArtifactPath(p.TenantID, run.ReportID, run.ID, art.ID), herald.ArtifactLinkTTL,
		herald.BlobLink{Filename: art.Name, ContentType: art.ContentType})
	if err != nil {
		writeError(w, r, fmt.Errorf("signing a link to artifact %s of run %s: %w", art.ID, run.ID, err))
		return
	}
	// No link leaves unaudited: the event is written first, and a failure answers 503.
	if err := s.recordAudit(r, p, "artifact.download", run, fmt.Sprintf("issued a download link for %s (%s) of run %s", art.Name, art.Format, run.ID),
		map[string]any{"runId": run.ID, "artifactId": art.ID, "format": art.Format, "name": art.Name, "expiresAt": expires, "redirect": redirect}); err != nil {
		writeError(w, r, herald.Wrap(err, herald.CodeUnavailable, "the download could not be recorded in the audit log; try again"))
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	if !redirect {
		writeJSON(w, http.StatusOK, artifactLinkView{URL: url, ExpiresAt: expires, Artifact: viewArtifact(art)})
		return
	}
	h.Set("Location", url)
	w.WriteHeader(http.StatusFound)
}

// redirectParam reads ?redirect= (true when absent).
func redirectParam(r *http.Request) (bool, error) {
	switch v := r.URL.Query().Get("redirect"); v {
	case "", "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &herald.Error{Code: herald.CodeInvalid, Message: "redirect must be true or false",
		Fields: []herald.FieldError{{Field: "redirect", Message: "must be true or false"}}}
}

// findArtifact returns the run's artifact with the given id.
func findArtifact(run *herald.Run, id string) (herald.Artifact, error) {
	if herald.ValidID(id) {
		for _, a := range run.Artifacts {
			if a.ID != id {
				continue
			}
			if !a.ExpiredAt.IsZero() {
				return a, herald.Errorf(herald.CodeGone, "artifact %s of run %s was deleted on %s under the tenant's retention period",
					a.Name, run.ID, a.ExpiredAt.Format(time.DateOnly))
			}
			return a, nil
		}
	}
	return herald.Artifact{}, herald.Errorf(herald.CodeNotFound, "artifact %q of run %q not found", id, run.ID)
}

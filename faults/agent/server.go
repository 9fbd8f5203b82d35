package agent

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// maxBody bounds request bodies; a fault is a few hundred bytes.
const maxBody = 1 << 20

// Handler returns the control API. Every request must carry
// "Authorization: Bearer <token>":
//
//	POST   /faults        Fault       -> 201 Applied
//	GET    /faults                    -> 200 Status
//	DELETE /faults/{id}               -> 200 Healed
//	POST   /heal-all                  -> 200|500 HealAllResult
//	GET    /healthz                   -> 200 Health
//	GET    /capabilities              -> 200 Capabilities
//	GET    /probe?resolve=N&connect=A -> 200 Probe
//
// Errors answer ErrorBody with 400 (ErrInvalid), 401, 404 (ErrNotFound),
// 409 (ErrConflict), 501 (ErrUnavailable) or 500.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /faults", a.handleApply)
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, a.Status())
	})
	mux.HandleFunc("DELETE /faults/{id}", a.handleHeal)
	mux.HandleFunc("POST /heal-all", a.handleHealAll)
	mux.HandleFunc("GET /healthz", a.handleHealth)
	mux.HandleFunc("GET /probe", a.handleProbe)
	mux.HandleFunc("GET /capabilities", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, a.Capabilities())
	})
	return a.authorize(mux)
}

// authorize rejects requests without the bearer token. The comparison is
// constant-time so the token cannot be guessed byte by byte.
func (a *Agent) authorize(next http.Handler) http.Handler {
	want := []byte("Bearer " + a.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hadrill-agent"`)
			writeJSON(w, http.StatusUnauthorized, ErrorBody{Error: ErrUnauthorized.Error()})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *Agent) handleApply(w http.ResponseWriter, r *http.Request) {
	var f Fault
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		writeError(w, fmt.Errorf("%w: decode fault: %v", ErrInvalid, err))
		return
	}
	res, err := a.Apply(f)
	if err != nil {
		a.log.Warn("apply rejected", "id", f.ID, "kind", f.Kind, "err", err)
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

func (a *Agent) handleHeal(w http.ResponseWriter, r *http.Request) {
	res, err := a.Heal(r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *Agent) handleHealAll(w http.ResponseWriter, _ *http.Request) {
	res := a.HealAll()
	status := http.StatusOK
	if len(res.Errors) > 0 || !res.Verified.OK {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, res)
}

func (a *Agent) handleHealth(w http.ResponseWriter, _ *http.Request) {
	h := Health{OK: true, UptimeS: time.Since(a.started).Seconds()}
	if a.sup != nil {
		h.PID = a.sup.current()
	}
	writeJSON(w, http.StatusOK, h)
}

// statusOf maps an error to its HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrUnavailable):
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, err error) {
	writeJSON(w, statusOf(err), ErrorBody{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

package registry

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

// TestTwoProcessesRegisterConcurrently is acceptance 5 of issue 10: two registries (two Opens of one
// database, as two bigfather processes have, each behind its own API handler) register at once: 2 x 200
// registrations across 20 subjects, some schemas registered by both, at the default BACKWARD level, while
// pairs of mutually incompatible schemas race from both sides. Ids are exactly 1..n with one id per distinct
// schema, every subject's versions are 1..n without gaps, and of each racing pair exactly one is accepted,
// the other refused with 409.
func TestTwoProcessesRegisterConcurrently(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		servers := []*httptest.Server{
			httptest.NewServer(NewHandler(open(t, uri))),
			httptest.NewServer(NewHandler(open(t, uri))),
		}
		for _, srv := range servers {
			t.Cleanup(srv.Close)
		}
		post := func(srv *httptest.Server, subject, text string) (int, string) {
			resp, err := http.Post(srv.URL+"/subjects/"+subject+"/versions", ContentType, strings.NewReader(js(obj{"schema": text})))
			if err != nil {
				t.Error(err)
				return 0, ""
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, strings.TrimSpace(string(body))
		}
		// Every schema is a record of fields with defaults, each schema's field named after it: any two are
		// BACKWARD compatible, whatever order they land in.
		record := func(field string) string {
			return fmt.Sprintf(`{"type":"record","name":"R","fields":[{"name":%q,"type":"long","default":0}]}`, field)
		}
		const (
			subjects = 20
			shared   = 5 // schemas each side registers under every subject: the same text everywhere
			own      = 5 // schemas of one side and one subject
			workers  = 4 // per side
		)
		type job struct{ subject, text string }
		var jobs [2][]job
		for side := range 2 {
			for i := range subjects {
				subject := fmt.Sprintf("s%02d", i)
				for j := range shared {
					jobs[side] = append(jobs[side], job{subject, record(fmt.Sprintf("shared%d", j))})
				}
				for k := range own {
					jobs[side] = append(jobs[side], job{subject, record(fmt.Sprintf("own_%d_%02d_%d", side, i, k))})
				}
			}
			rand.New(rand.NewPCG(uint64(side), 10)).Shuffle(len(jobs[side]), func(a, b int) { jobs[side][a], jobs[side][b] = jobs[side][b], jobs[side][a] })
		}
		if n := len(jobs[0]) + len(jobs[1]); n != 400 {
			t.Fatalf("the workload has %d registrations, want 400", n)
		}

		// Racing pairs: each candidate is compatible with the base but not with the other.
		base := `{"type":"record","name":"R","fields":[]}`
		candidates := [2]string{
			`{"type":"record","name":"R","fields":[{"name":"f","type":"int","default":0}]}`,
			`{"type":"record","name":"R","fields":[{"name":"f","type":"string","default":""}]}`,
		}
		const races = 10
		for i := range races {
			if status, body := post(servers[i%2], fmt.Sprintf("race%d", i), base); status != 200 {
				t.Fatalf("registering the base of race%d: %d %s", i, status, body)
			}
		}

		type result struct {
			job    job
			status int
			body   string
		}
		var results [2][]result
		var raceResults [races][2]result
		var wg sync.WaitGroup
		for side := range 2 {
			results[side] = make([]result, len(jobs[side]))
			for w := range workers {
				wg.Go(func() {
					for n := w; n < len(jobs[side]); n += workers {
						j := jobs[side][n]
						status, body := post(servers[side], j.subject, j.text)
						results[side][n] = result{j, status, body}
					}
				})
			}
			for i := range races {
				wg.Go(func() {
					subject := fmt.Sprintf("race%d", i)
					status, body := post(servers[side], subject, candidates[side])
					raceResults[i][side] = result{job{subject, candidates[side]}, status, body}
				})
			}
		}
		wg.Wait()

		// Ids: one per distinct schema, 1..n without gaps or collisions. The race bases and the accepted
		// candidates are schemas too: base, and at most the two candidates.
		idOf := map[string]int{} // text -> id
		for side := range 2 {
			for _, r := range results[side] {
				if r.status != 200 {
					t.Fatalf("registering %s under %s: %d %s", r.job.text, r.job.subject, r.status, r.body)
				}
				var got struct{ ID int }
				if err := json.Unmarshal([]byte(r.body), &got); err != nil || got.ID < 1 {
					t.Fatalf("registering under %s: answer %s", r.job.subject, r.body)
				}
				if prev, ok := idOf[r.job.text]; ok && prev != got.ID {
					t.Errorf("schema %s got ids %d and %d", r.job.text, prev, got.ID)
				}
				idOf[r.job.text] = got.ID
			}
		}
		if want := shared + 2*subjects*own; len(idOf) != want {
			t.Errorf("%d distinct schemas registered, want %d", len(idOf), want)
		}
		textOf := map[int]string{}
		for text, id := range idOf {
			if other, ok := textOf[id]; ok {
				t.Errorf("id %d given to two schemas: %s and %s", id, other, text)
			}
			textOf[id] = text
		}

		// The races: exactly one accepted per subject, the other refused with Confluent's 409 naming what
		// changed.
		store := open(t, uri)
		ctx := t.Context()
		accepted := map[int]bool{}
		for i, pair := range raceResults {
			subject := fmt.Sprintf("race%d", i)
			winner := -1
			for side, r := range pair {
				if r.status == 200 {
					if winner >= 0 {
						t.Errorf("%s: both incompatible candidates were accepted", subject)
					}
					winner = side
				}
			}
			if winner < 0 {
				t.Errorf("%s: neither candidate was accepted: %d %s; %d %s", subject, pair[0].status, pair[0].body, pair[1].status, pair[1].body)
				continue
			}
			loser := 1 - winner
			msgs := schema.Check(schema.Backward, mustParse(t, candidates[loser]), []schema.Parsed{mustParse(t, candidates[winner])})
			want := errBody(409, fmt.Sprintf(`Schema being registered is incompatible with an earlier schema for subject "%s", details: [%s]`, subject, strings.Join(msgs, ", ")))
			if len(msgs) == 0 || pair[loser].status != 409 || pair[loser].body != want {
				t.Errorf("%s: the losing candidate got %d %s, want 409 %s", subject, pair[loser].status, pair[loser].body, want)
			}
			var got struct{ ID int }
			json.Unmarshal([]byte(pair[winner].body), &got)
			accepted[got.ID] = true
			v, err := store.Latest(ctx, subject)
			if err != nil || v.Version != 2 || v.ID != got.ID || v.Text != candidates[winner] {
				t.Errorf("%s latest = version %d id %d %s, %v; want version 2 id %d %s", subject, v.Version, v.ID, v.Text, err, got.ID, candidates[winner])
			}
			if nums, err := store.Versions(ctx, subject, true); err != nil || !reflect.DeepEqual(nums, []int{1, 2}) {
				t.Errorf("%s versions = %v, %v; want [1 2]", subject, nums, err)
			}
		}
		baseID := 0
		if v, err := store.Version(ctx, "race0", 1, false); err != nil || v.Text != base {
			t.Fatalf("race0 version 1 = %+v, %v; want the base", v, err)
		} else {
			baseID = v.ID
		}
		for id := range accepted {
			textOf[id] = "candidate"
		}
		textOf[baseID] = base
		wantIDs := make([]int, len(textOf))
		for i := range wantIDs {
			wantIDs[i] = i + 1
		}
		gotIDs := make([]int, 0, len(textOf))
		for id := range textOf {
			gotIDs = append(gotIDs, id)
		}
		slices.Sort(gotIDs)
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("schema ids = %v, want exactly 1..%d", gotIDs, len(wantIDs))
		}
		if maxID, err := store.MaxID(ctx); err != nil || maxID != len(wantIDs) {
			t.Errorf("MaxID = %d, %v; want %d", maxID, err, len(wantIDs))
		}

		// Every subject: versions 1..15, each one of the schemas registered under it, each once.
		for i := range subjects {
			subject := fmt.Sprintf("s%02d", i)
			nums, err := store.Versions(ctx, subject, true)
			if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}; err != nil || !slices.Equal(nums, want) {
				t.Errorf("%s versions = %v, %v; want %v", subject, nums, err, want)
				continue
			}
			want := map[int]bool{}
			for _, side := range jobs {
				for _, j := range side {
					if j.subject == subject {
						want[idOf[j.text]] = true
					}
				}
			}
			got := map[int]bool{}
			for _, n := range nums {
				v, err := store.Version(ctx, subject, n, false)
				if err != nil {
					t.Fatal(err)
				}
				if got[v.ID] {
					t.Errorf("%s: schema %d is two versions", subject, v.ID)
				}
				got[v.ID] = true
				if v.Text != textOf[v.ID] {
					t.Errorf("%s version %d: text %s, want %s (id %d)", subject, n, v.Text, textOf[v.ID], v.ID)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s holds schemas %v, want %v", subject, got, want)
			}
		}
	})
}

func mustParse(t *testing.T, text string) schema.Parsed {
	t.Helper()
	p, err := schema.Parse(schema.Avro, text, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

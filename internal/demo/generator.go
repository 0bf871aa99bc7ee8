// Package demo generates synthetic game events and produces them to Kafka.
//
// The world is a fixed population of players, each with a stable platform,
// country and currency and a level that only rises. About a tenth of the
// players are online at a time. A player's events form sessions:
// session_start, then level_up, item_acquire and purchase events, then
// session_end. Every event carries the player's client_seq, which counts that
// player's events from 1 with no gaps.
//
// Rough mix: item_acquire 79%, level_up 8% (more for new players, fewer as
// they level), session_start and session_end 5% each, purchase 3%.
// Purchase amounts are store price points in the player's currency (0.99 USD,
// 1200 KRW, 160 JPY and so on), so revenue must be summed per currency.
//
// A Generator is deterministic: one seed and start time give the same events,
// event IDs included. Produce picks a random seed when given 0, so separate
// runs never repeat event IDs.
//
// Produce can also spoil the stream the way real clients and networks do, so
// that staging's checks have something to catch: malformed records besides
// the events (ProduceOptions.MalformedRate), events produced twice, some much
// later and on another partition (DuplicateRate), and events lost before
// Kafka, leaving holes in their players' client_seq (GapRate). The full
// original stream, lost events included, can be written out for a backfill
// (AllEvents). See faults.go.
package demo

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"time"
)

// Event types, the values of Event.EventType.
const (
	SessionStart = "session_start"
	SessionEnd   = "session_end"
	LevelUp      = "level_up"
	ItemAcquire  = "item_acquire"
	Purchase     = "purchase"
)

// MaxLevel is the highest level a player reaches.
const MaxLevel = 100

// DefaultPlayers is the population of a Generator created with players <= 0.
const DefaultPlayers = 5000

// Event is one game event. ItemID is set only for item_acquire and purchase,
// Amount and Currency only for purchase; AppendJSON omits them when empty.
type Event struct {
	EventID   string
	EventTime time.Time
	PlayerID  string
	EventType string
	Level     int
	ItemID    string
	Amount    float64
	Currency  string
	Platform  string
	Country   string
	ClientSeq int64
}

type player struct {
	id        string
	platform  string
	country   string
	currency  int // index into prices
	level     int
	seq       int64
	remaining int   // in-session actions left before session_end
	online    int32 // index in Generator.online, or -1
}

// Generator simulates the game world. It is not safe for concurrent use.
type Generator struct {
	rng     *rand.Rand
	clock   time.Time
	players []player
	online  []int32       // indexes of players in a session
	target  int           // players online in the steady state
	tick    time.Duration // the clock moves 0 to 19 ticks per event
}

// NewGenerator returns a world of players players (DefaultPlayers if
// players <= 0) whose clock starts at start, truncated to the millisecond.
// The same seed, players and start give the same events.
func NewGenerator(seed int64, players int, start time.Time) *Generator {
	if players <= 0 {
		players = DefaultPlayers
	}
	g := &Generator{
		rng:     rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		clock:   start.Truncate(time.Millisecond).UTC(),
		players: make([]player, players),
		target:  max(1, players/10),
		tick:    time.Millisecond,
	}
	width := max(6, len(strconv.Itoa(players)))
	idBuf := make([]byte, 0, 1+width)
	for i := range g.players {
		p := &g.players[i]
		idBuf = append(idBuf[:0], 'p')
		n := strconv.Itoa(i + 1)
		for range width - len(n) {
			idBuf = append(idBuf, '0')
		}
		p.id = string(append(idBuf, n...))
		p.platform = platforms.pick(g.rng)
		c := countries[countryPick.pickIndex(g.rng)]
		p.country, p.currency = c.code, c.currency
		// Most players are early in the game; a few are far along.
		p.level = 1 + g.rng.IntN(g.rng.IntN(40)+1)
		p.online = -1
	}
	return g
}

// meanStep is how far the clock moves per event on average.
const meanStep = 9500 * time.Microsecond

// SetMeanStep makes the clock move d per event on average (default 9.5 ms): the same random draws, scaled.
func (g *Generator) SetMeanStep(d time.Duration) {
	if d > 0 {
		g.tick = d * 2 / 19
	}
}

// Next advances the world by one event and returns it. The clock moves 0 to
// 19 milliseconds per event, about 105 events per simulated second.
func (g *Generator) Next() Event {
	g.clock = g.clock.Add(time.Duration(g.rng.IntN(20)) * g.tick)

	// Bring players online until the target is reached, then keep the
	// online ones busy; sessions ending make room for new ones.
	if len(g.online) == 0 || (len(g.online) < g.target && g.rng.IntN(2) == 0) {
		i := g.rng.IntN(len(g.players))
		for g.players[i].online >= 0 { // at most a tenth are online
			i = g.rng.IntN(len(g.players))
		}
		p := &g.players[i]
		p.online = int32(len(g.online))
		g.online = append(g.online, int32(i))
		p.remaining = 3 + g.rng.IntN(g.rng.IntN(60)+1)
		return g.event(p, SessionStart)
	}

	p := &g.players[g.online[g.rng.IntN(len(g.online))]]
	if p.remaining == 0 {
		last := g.online[len(g.online)-1]
		g.online[p.online] = last
		g.players[last].online = p.online
		g.online = g.online[:len(g.online)-1]
		p.online = -1
		return g.event(p, SessionEnd)
	}
	p.remaining--

	r := g.rng.IntN(1000)
	switch {
	case r < 33:
		e := g.event(p, Purchase)
		e.ItemID = shopItems[g.rng.IntN(len(shopItems))]
		e.Amount = prices[p.currency].pick(g.rng)
		e.Currency = prices[p.currency].code
		return e
	case r < 33+1250/(5+p.level) && p.level < MaxLevel:
		p.level++
		return g.event(p, LevelUp)
	default:
		e := g.event(p, ItemAcquire)
		e.ItemID = lootItems[g.rng.IntN(len(lootItems))]
		return e
	}
}

// event returns the next event of p, with a fresh event ID and client_seq.
func (g *Generator) event(p *player, typ string) Event {
	p.seq++
	return Event{
		EventID:   g.uuid(),
		EventTime: g.clock,
		PlayerID:  p.id,
		EventType: typ,
		Level:     p.level,
		Platform:  p.platform,
		Country:   p.country,
		ClientSeq: p.seq,
	}
}

// uuid returns a random (version 4) UUID drawn from the generator's source.
func (g *Generator) uuid() string { return newUUID(g.rng) }

// newUUID returns a random (version 4) UUID drawn from r.
func newUUID(r *rand.Rand) string {
	var u [16]byte
	binary.BigEndian.PutUint64(u[:8], r.Uint64())
	binary.BigEndian.PutUint64(u[8:], r.Uint64())
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// weighted is a table of choices with integer weights.
type weighted[T any] struct {
	vals []T
	cum  []int
}

func newWeighted[T any](vals []T, weights []int) weighted[T] {
	w := weighted[T]{vals: vals, cum: make([]int, len(weights))}
	sum := 0
	for i, x := range weights {
		sum += x
		w.cum[i] = sum
	}
	return w
}

func (w weighted[T]) pickIndex(r *rand.Rand) int {
	x := r.IntN(w.cum[len(w.cum)-1])
	for i, c := range w.cum {
		if x < c {
			return i
		}
	}
	return len(w.cum) - 1
}

func (w weighted[T]) pick(r *rand.Rand) T { return w.vals[w.pickIndex(r)] }

var platforms = newWeighted([]string{"android", "ios", "pc"}, []int{50, 35, 15})

type country struct {
	code     string
	currency int
}

// Currencies, indexes into prices.
const (
	usd = iota
	eur
	krw
	jpy
)

// prices holds each currency's store price points, cheap ones most likely.
var prices = []struct {
	code string
	weighted[float64]
}{
	usd: {"USD", newWeighted([]float64{0.99, 4.99, 9.99, 19.99, 49.99}, priceWeights)},
	eur: {"EUR", newWeighted([]float64{0.99, 4.99, 9.99, 19.99, 49.99}, priceWeights)},
	krw: {"KRW", newWeighted([]float64{1200, 5900, 12000, 25000, 59000}, priceWeights)},
	jpy: {"JPY", newWeighted([]float64{160, 800, 1500, 3000, 7800}, priceWeights)},
}

var priceWeights = []int{40, 30, 15, 10, 5}

var countries = []country{
	{"US", usd}, {"KR", krw}, {"JP", jpy}, {"DE", eur}, {"BR", usd}, {"FR", eur}, {"GB", usd},
	{"CA", usd}, {"TW", usd}, {"TH", usd}, {"ID", usd}, {"MX", usd}, {"IN", usd}, {"ES", eur},
}

var countryPick = newWeighted(countries, []int{20, 15, 12, 6, 8, 5, 6, 4, 4, 4, 5, 4, 5, 2})

// lootItems are found in play; shopItems are sold for money.
var lootItems, shopItems = itemNames(
	[]string{"sword", "shield", "bow", "staff", "dagger", "helmet", "armor", "boots", "ring", "amulet", "potion", "scroll"}, 20),
	itemNames([]string{"gem_pack", "skin", "chest", "season_pass"}, 5)

func itemNames(kinds []string, n int) []string {
	var out []string
	for _, k := range kinds {
		for i := 1; i <= n; i++ {
			s := strconv.Itoa(i)
			if i < 10 {
				s = "0" + s
			}
			out = append(out, k+"_"+s)
		}
	}
	return out
}

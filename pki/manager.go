package pki

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// Options tune a Manager. The zero value is ready for production.
type Options struct {
	// NodeName is the CN of this node's certificates. Default: the host
	// name; either way it is sanitized to a DNS label.
	NodeName string
	// NodeValidity is the lifetime of a node certificate (default 24h); it
	// is re-issued after 2/3 of it.
	NodeValidity time.Duration
	// Logger receives warnings (a weak passphrase accepted by opt-in, a
	// passphrase tunnel on the default cluster).
	// Nothing secret is ever logged. Default: discard.
	Logger *slog.Logger
	// Now is the clock, for tests. Default: time.Now.
	Now func() time.Time
	// ReloadInterval is how often certificate, key and CA files are
	// re-read besides on file events (default DefaultReloadInterval). A
	// negative value turns hot reload off: files are read once.
	ReloadInterval time.Duration
	// StateDir is the --state-dir value: where self-signed certificates
	// are kept. It is resolved by ResolveStateDir when a tunnel first needs
	// it, so configs without one create no directory. Default: DefaultStateDir.
	StateDir string
	// ReadOnly makes a Manager that writes nothing and makes no
	// directory, for checking a config (passtunnel check): a self-signed
	// tunnel without its kept certificate gets one in memory instead.
	ReadOnly bool
}

// Manager builds the endpoints of every tunnel of the process (see
// identitySource). It derives each (passphrase, cluster) once, however
// many tunnels and reloads use it (the derivation is slow on purpose), and
// shares one node identity and one session ticketer per derived CA. The
// daemon creates one and keeps it across reloads.
type Manager struct {
	node     string
	validity time.Duration
	log      *slog.Logger
	now      func() time.Time
	// derive is DeriveClusterCA and stretch StretchSharedSecret; tests
	// swap in cached ones.
	derive  func(passphrase, cluster string) (*ClusterCA, error)
	stretch func(secret, cluster string) (*SharedSecretKey, error)
	// cacheKey keys the cache by HMAC rather than by the passphrase itself,
	// and per process, so the map holds nothing that is fast to guess at.
	cacheKey [32]byte

	mu       sync.Mutex
	clusters map[[32]byte]func() (*clusterState, error) // sync.OnceValues
	secrets  map[[32]byte]func() (*SharedSecretKey, error)
	nodes    map[string]*nodeIdentity // by the fingerprints of its CAs
	warned   onceSet                  // warnings logged once a process
	reload   *reloader                // hot reload of tls.cert, tls.key, tls.ca

	stateDir     func() (string, error) // sync.OnceValues of ResolveStateDir
	stateDirFlag string                 // Options.StateDir, for peekSelfSigned
	readOnly     bool
	selfMu       sync.Mutex   // one self-signed certificate made at a time
	acme         acmeRegistry // certmagic state of acme tunnels; guarded by mu
}

// clusterState is what every tunnel of one (passphrase, cluster) shares.
type clusterState struct {
	ca      *ClusterCA
	tickets *ticketer
}

// NewManager resolves the defaults of opts.
func NewManager(opts Options) *Manager {
	m := &Manager{
		validity:     opts.NodeValidity,
		log:          opts.Logger,
		now:          opts.Now,
		derive:       DeriveClusterCA,
		stretch:      StretchSharedSecret,
		clusters:     map[[32]byte]func() (*clusterState, error){},
		secrets:      map[[32]byte]func() (*SharedSecretKey, error){},
		nodes:        map[string]*nodeIdentity{},
		stateDir:     sync.OnceValues(func() (string, error) { return ResolveStateDir(opts.StateDir) }),
		stateDirFlag: opts.StateDir,
		readOnly:     opts.ReadOnly,
	}
	if m.validity <= 0 {
		m.validity = DefaultNodeValidity
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.reload = newReloader(m.log, opts.ReloadInterval)
	if m.now == nil {
		m.now = time.Now
	}
	name := opts.NodeName
	if name == "" {
		name, _ = os.Hostname() // on error "" becomes "node"
	}
	m.node = SanitizeNodeName(name)
	// crypto/rand.Read never fails (Go 1.24+); it panics if the OS cannot give entropy.
	_, _ = rand.Read(m.cacheKey[:])
	return m
}

// NodeName is the (sanitized) name this node's certificates carry.
func (m *Manager) NodeName() string { return m.node }

// ClusterCA derives the CA of (passphrase, cluster), once per Manager.
// Concurrent callers for the same pair wait for one derivation; distinct
// pairs derive in parallel.
func (m *Manager) ClusterCA(passphrase, cluster string) (*ClusterCA, error) {
	st, err := m.cluster(passphrase, cluster)
	if err != nil {
		return nil, err
	}
	return st.ca, nil
}

func (m *Manager) cluster(passphrase, cluster string) (*clusterState, error) {
	if cluster == "" {
		cluster = DefaultCluster
	}
	key := m.keyOf(passphrase, cluster)
	m.mu.Lock()
	load, ok := m.clusters[key]
	if !ok {
		// The closure holds the passphrase only until the derivation ran:
		// OnceValues drops its function afterwards.
		load = sync.OnceValues(func() (*clusterState, error) {
			ca, err := m.derive(passphrase, cluster)
			if err != nil {
				return nil, err
			}
			return &clusterState{ca: ca, tickets: derivedTicketer(ca, m.now)}, nil
		})
		m.clusters[key] = load
	}
	m.mu.Unlock()
	return load()
}

// nodeFor is the node identity that presents certificates of cas (current
// first), shared by every tunnel with the same passphrases.
func (m *Manager) nodeFor(cas []*ClusterCA) *nodeIdentity {
	var key strings.Builder
	for _, ca := range cas {
		key.WriteString(ca.Fingerprint())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.nodes[key.String()]
	if !ok {
		n = &nodeIdentity{cas: cas, name: m.node, validity: m.validity, now: m.now}
		m.nodes[key.String()] = n
	}
	return n
}

func (m *Manager) keyOf(passphrase, cluster string) [32]byte {
	h := hmac.New(sha256.New, m.cacheKey[:])
	// Length-prefixed, so no (cluster, passphrase) pair can collide with another.
	_ = binary.Write(h, binary.BigEndian, uint64(len(cluster)))
	h.Write([]byte(cluster))
	h.Write([]byte(passphrase))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// warnWeak logs, once per tunnel and field, that a weak passphrase was
// accepted: repeating it on every reload would only train people to
// ignore it.
func (m *Manager) warnWeak(tunnel, field string, err error) {
	if m.warned.first(tunnel + "\x00" + field) {
		m.log.Warn("weak passphrase accepted because allow_weak_passphrase = true",
			"tunnel", tunnel, "field", field, "rule", err.Error())
	}
}

// warnDefaultCluster logs, once per process, that a passphrase tunnel
// derives with the default cluster. The cluster is the derivation's salt:
// every deployment that keeps the default shares it, so one table of
// precomputed guesses serves an attacker against all of them.
func (m *Manager) warnDefaultCluster(tunnel string) {
	// The key holds no NUL, so no tunnel and field of warnWeak can match it.
	if m.warned.first("default cluster") {
		m.log.Warn("passphrase tunnel on the default cluster: the cluster salts the passphrase derivation, "+
			"so one precomputed table of guesses covers every deployment that keeps the default",
			"tunnel", tunnel, "cluster", DefaultCluster,
			"hint", "set cluster to a name unique to this deployment, the same on every node; "+
				"passtunnel pki passphrase prints a random one")
	}
}

// onceSet remembers keys, for what is done once a process: a warning
// logged, a file warned about.
type onceSet struct {
	mu   sync.Mutex
	seen map[string]bool
}

// first reports whether key is new to the set, and adds it.
func (s *onceSet) first(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[key] {
		return false
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[key] = true
	return true
}

// Close stops the Manager's background work: watching certificate, key
// and CA files (waiting for a reload in progress) and ACME renewals.
// Endpoints built earlier keep working with the certificates and pools
// they hold last. The daemon calls it on exit.
func (m *Manager) Close() {
	m.reload.close()
	m.stopACME()
}

// ReloadStats counts hot reloads of certificate, key and CA files by
// tunnel and result, since the Manager was made: the source of the reload
// metric. Tunnels with files that never changed are listed with zeros.
func (m *Manager) ReloadStats() map[string]ReloadCounts { return m.reload.snapshotStats() }

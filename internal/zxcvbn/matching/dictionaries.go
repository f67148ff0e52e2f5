package matching

import (
	"sync"
	"weak"

	"github.com/passtunnel/passtunnel/internal/zxcvbn/frequency"
)

// rankedDictionaries is the one change from upstream: the ranked
// dictionaries (about 10 MB of maps and 30 ms to build) are made when a
// password is first judged, not at package initialisation, so a process
// that never judges one (every tunnel without a passphrase) never pays for
// them. They are held only weakly: the judgements of one config load share
// them, and the next collection after that gives them back.
var rankedDictionaries struct {
	sync.Mutex
	cached weak.Pointer[dictionaryMatch]
}

// defaultDictionaries returns the ranked frequency lists, building them
// when the collector has taken the last ones.
func defaultDictionaries() *dictionaryMatch {
	rankedDictionaries.Lock()
	defer rankedDictionaries.Unlock()
	if d := rankedDictionaries.cached.Value(); d != nil {
		return d
	}
	d := loadDefaultDictionaries()
	rankedDictionaries.cached = weak.Make(d)
	return d
}

func loadDefaultDictionaries() *dictionaryMatch {
	lists := frequency.Lists()
	rd := make(map[string]rankedDictionnary, len(lists))
	for n, list := range lists {
		rd[n] = buildRankedDict(list)
	}
	return &dictionaryMatch{rankedDictionaries: rd}
}

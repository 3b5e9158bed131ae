// gohub is a minimal reference hub for seatcast's benchmarks: the idiomatic
// gorilla/websocket + pgx design (one hub goroutine, a reader and a writer goroutine per
// connection with a buffered channel) speaking the subset of seatcast's protocol that
// `seatcast bench` uses, on seatcast's own schema. A benchmark tool, not a product.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v4/pgxpool"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8282", "address to listen on")
	dbURL := flag.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (default $DATABASE_URL)")
	poolSize := flag.Int("pool", 8, "database connections for requests and snapshots")
	holdTTL := flag.Duration("hold-ttl", 120*time.Second, "how long a hold lasts")
	flag.Parse()
	if *dbURL == "" {
		log.Fatal("no database: pass -database-url or set DATABASE_URL")
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(*dbURL)
	if err != nil {
		log.Fatal(err)
	}
	cfg.MaxConns = int32(*poolSize)
	pool, err := pgxpool.ConnectConfig(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	st := &store{pool: pool, holdTTL: *holdTTL}
	h := newHub()
	go h.run()
	go listen(ctx, *dbURL, h)

	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) { serveWS(h, st, w, r) })
	http.HandleFunc("/ws/trips/", func(w http.ResponseWriter, r *http.Request) { serveWS(h, st, w, r) })
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := pool.Ping(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	})
	// Go (1.19+) lifts the soft RLIMIT_NOFILE to the hard limit at start.
	log.Printf("gohub listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

// SeatcastClient: the terminal client side of seatcast. A libwebsockets client
// connection (`WebSocketConnection`), the live terminal seat map (`Watcher`, drawn by
// `SeatMapRenderer`) and one-shot requests (`OneShot`) for `seatcast watch`,
// `seatcast reserve|confirm|release`.
//
// Concurrency: a connection runs its lws service loop on the calling thread until it
// closes; everything happens in its callbacks on that thread.
//
// May import: SeatcastCore, CLibWebSockets, Foundation. Never the server or the store.

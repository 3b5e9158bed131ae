/// One event of a trip's stream as it goes out: its `seq` and its frame, encoded once and
/// shared by every subscriber it goes to. What the ring keeps, what a resume buffers and
/// what an outbox read replays; the `seq` is all the subscription policy needs to order
/// and deduplicate them, so the event itself is not kept.
public struct EventFrame: Sendable {
    public var seq: Int64
    public var frame: Frame

    public init(seq: Int64, frame: Frame) {
        self.seq = seq
        self.frame = frame
    }
}

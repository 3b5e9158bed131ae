// Owns: the list of trips one session follows. Thread: loop only.

/// The trips a session follows, by id (who follows what, per trip, is the
/// `SubscriptionMachine`'s; this is the session's side: its limit, what to leave when it
/// closes, what to resync when its queue overflows). Almost every connection follows one
/// trip, so the first is stored inline and only further ones take an array: an idle
/// subscribed connection makes no allocation for it, and the ids are the hubs' own
/// strings, shared. Loop thread only.
struct Subscriptions: RandomAccessCollection {
    private var head: String?
    private var rest: [String] = []

    var startIndex: Int { 0 }
    var endIndex: Int { head == nil ? 0 : 1 + rest.count }

    subscript(i: Int) -> String { i == 0 ? head! : rest[i - 1] }

    mutating func append(_ tripId: String) {
        if head == nil { head = tripId } else { rest.append(tripId) }
    }

    /// Removes `tripId`; false when it was not followed.
    @discardableResult
    mutating func remove(_ tripId: String) -> Bool {
        guard let i = firstIndex(of: tripId) else { return false }
        if i > 0 {
            rest.remove(at: i - 1)
        } else {
            head = rest.isEmpty ? nil : rest.removeFirst()
        }
        return true
    }

    mutating func removeAll() {
        head = nil
        rest = []
    }
}

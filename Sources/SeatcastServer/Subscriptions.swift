/// A session's subscribed trips. Almost every connection follows one trip, so the first is
/// stored inline and only further ones take an array: an idle subscribed connection makes
/// no allocation for it. Loop thread only.
struct Subscriptions: RandomAccessCollection {
    private var head: TripHub?
    private var rest: [TripHub] = []

    var startIndex: Int { 0 }
    var endIndex: Int { head == nil ? 0 : 1 + rest.count }

    subscript(i: Int) -> TripHub { i == 0 ? head! : rest[i - 1] }

    mutating func append(_ hub: TripHub) {
        if head == nil { head = hub } else { rest.append(hub) }
    }

    @discardableResult
    mutating func remove(at i: Int) -> TripHub {
        if i > 0 { return rest.remove(at: i - 1) }
        let h = head!
        head = rest.isEmpty ? nil : rest.removeFirst()
        return h
    }

    mutating func removeAll() {
        head = nil
        rest = []
    }
}

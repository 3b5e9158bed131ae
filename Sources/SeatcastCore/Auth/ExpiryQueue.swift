/// When each connection's buyer token runs out (docs/PROTOCOL.md, version 1.1: at `exp`
/// without a fresh token the server closes with 1008). Pure: a binary min-heap of
/// (deadline, key) with lazy deletion, checked by one timer for all connections (lws 4.1.6
/// keeps its timers in a sorted list with an O(n) insert: one per connection would make
/// 19,000 connections quadratic).
///
/// `schedule` records a key's deadline (replacing any earlier one); `remove` forgets it.
/// Neither searches the heap: a replaced or removed entry stays in it, and is skipped when
/// it comes up because it no longer matches the key's current deadline. The heap is
/// rebuilt from the current deadlines when stale entries outnumber live ones, so it never
/// holds more than about twice the live keys.
public struct ExpiryQueue<Key: Hashable> {
    private struct Entry {
        var deadline: Double
        var key: Key
    }

    private var heap: [Entry] = []
    /// Each scheduled key's current deadline.
    private var current: [Key: Double] = [:]

    public init() {}

    /// Keys with a deadline.
    public var count: Int { current.count }
    public var isEmpty: Bool { current.isEmpty }
    /// Entries in the heap, stale ones included (for tests of the compaction).
    public var storedEntries: Int { heap.count }

    /// The key's deadline, if it has one.
    public func deadline(of key: Key) -> Double? { current[key] }

    /// The earliest deadline of any key (stale entries on top are dropped on the way).
    public mutating func earliest() -> Double? {
        dropStale()
        return heap.first?.deadline
    }

    /// Sets `key`'s deadline (a refreshed token replaces the old one, earlier or later).
    public mutating func schedule(_ key: Key, at deadline: Double) {
        precondition(!deadline.isNaN, "a NaN deadline")
        current[key] = deadline
        push(Entry(deadline: deadline, key: key))
        compactIfNeeded()
    }

    /// Forgets `key` (its connection closed).
    public mutating func remove(_ key: Key) {
        guard current.removeValue(forKey: key) != nil else { return }
        compactIfNeeded()
    }

    /// Removes and returns every key whose deadline is before `now` (strictly: a token is
    /// still accepted at exactly its deadline), earliest first.
    public mutating func popExpired(now: Double) -> [Key] {
        var out: [Key] = []
        while let top = heap.first, top.deadline < now {
            popTop()
            if current[top.key] == top.deadline {
                current[top.key] = nil
                out.append(top.key)
            }
        }
        return out
    }

    // MARK: Heap

    private mutating func dropStale() {
        while let top = heap.first, current[top.key] != top.deadline { popTop() }
    }

    private mutating func compactIfNeeded() {
        guard heap.count > 64, heap.count > 2 * current.count else { return }
        heap = current.map { Entry(deadline: $0.value, key: $0.key) }
        guard heap.count > 1 else { return }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    private mutating func push(_ e: Entry) {
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].deadline < heap[parent].deadline else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count, heap[l].deadline < heap[m].deadline { m = l }
            if r < heap.count, heap[r].deadline < heap[m].deadline { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}

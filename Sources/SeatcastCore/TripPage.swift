/// Paging of `GET /api/trips` (docs/PROTOCOL.md): without `limit` and `after` the whole
/// list (version 1); with either, `?limit=N` (default 100, at most 1,000) trips ordered by
/// trip id, starting after `?after=TRIPID` (the last trip id of the previous page); a
/// page has `"next":"TRIPID"` (the value for the next page's `after`) when more trips
/// follow.
public enum TripPage {
    public static let defaultLimit = 100
    public static let maxLimit = 1000

    /// The query's limit and cursor (limit nil: the whole list), or a `bad_request`.
    public static func parse(limit: String?, after: String?) -> Result<(limit: Int?, after: String?), ProtocolError> {
        if limit == nil && (after ?? "").isEmpty { return .success((nil, nil)) }
        var n = defaultLimit
        if let limit {
            guard let v = Int(limit), (1...maxLimit).contains(v) else {
                return .failure(ProtocolError(.badRequest, "limit must be an integer from 1 to \(maxLimit)"))
            }
            n = v
        }
        if let after, !after.isEmpty {
            guard Validation.isTripId(after) else { return .failure(ProtocolError(.badRequest, "after must be a trip id")) }
            return .success((n, after))
        }
        return .success((n, nil))
    }

    /// `{"trips":[...],"next":"T9"}` from up to `limit + 1` trips read (one more than the page,
    /// to know whether more follow); `next` only when they do. Limit nil: the whole list.
    /// `only`: keep only the trips a buyer's claim covers (`next` still follows the list).
    public static func encode(_ list: [TripSummary], limit: Int?, only: BuyerClaims? = nil) -> [UInt8] {
        let limit = limit ?? list.count
        let page = list.prefix(limit)
        return JSONWriter.object { w in
            w.field("trips", objects: page.filter { only?.covers(tripId: $0.tripId) ?? true }) { w, t in
                w.field("tripId", t.tripId)
                w.field("name", t.name)
                w.field("seats", t.seats)
                w.field("available", t.available)
            }
            if list.count > limit, let last = page.last { w.field("next", last.tripId) }
        }
    }
}

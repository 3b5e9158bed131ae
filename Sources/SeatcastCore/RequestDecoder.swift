/// Decodes client text frames into `Request`s (docs/PROTOCOL.md "Client to server").
/// Every failure is a `ProtocolError` carrying the request's `id` when it could be read.
public struct RequestDecoder: Sendable {
    public var limits: Limits

    public init(limits: Limits = Limits()) { self.limits = limits }

    public static let helpText = """
    seatcast v1. JSON: {"type":"subscribe","tripId":"demo"} | reserve | confirm | release | extend | unsubscribe | auth | ping. \
    Words: sub TRIP | unsub TRIP | reserve TRIP SEAT... [hold=TOKEN] | reserve TRIP COUNT [together] [hold=TOKEN] | \
    confirm TRIP HOLD [SEAT...] | release TRIP HOLD [SEAT...] | extend TRIP HOLD [SECONDS] | auth TOKEN | ping | help
    """

    /// The longest `seconds` an `extend` may ask for (a year); the hold TTL caps it anyway.
    public static let maxExtendSeconds = 365 * 86_400

    /// Decodes one complete text message.
    public func decode(_ bytes: some Collection<UInt8>) -> Result<Request, ProtocolError> {
        var start = bytes.startIndex
        while start != bytes.endIndex, Self.isSpace(bytes[start]) { start = bytes.index(after: start) }
        if start != bytes.endIndex, bytes[start] == UInt8(ascii: "{") {
            return decodeJSON(bytes)
        }
        return decodeWords(String(decoding: bytes, as: UTF8.self))
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

    // MARK: JSON

    func decodeJSON(_ bytes: some Collection<UInt8>) -> Result<Request, ProtocolError> {
        let json: JSON
        do {
            json = try JSON.parse(bytes)
        } catch {
            return .failure(ProtocolError(.badRequest, "malformed JSON: \(error.message) at byte \(error.offset)"))
        }
        return decodeObject(json)
    }

    /// The HTTP mirror: the body is the WebSocket request without `type`; the trip comes
    /// from the path (a `tripId` in the body must agree with it).
    public func decodeHTTP(_ body: [UInt8], type: String, tripId: String) -> Result<Request, ProtocolError> {
        let json: JSON
        do {
            json = body.allSatisfy(Self.isSpace) ? .object([]) : try JSON.parse(body)
        } catch {
            return .failure(ProtocolError(.badRequest, "malformed JSON: \(error.message) at byte \(error.offset)"))
        }
        guard case var .object(members) = json else {
            return .failure(ProtocolError(.badRequest, "the body must be a JSON object"))
        }
        if let t = json["tripId"] {
            guard t == .string(tripId) else {
                return .failure(ProtocolError(.badRequest, "tripId in the body differs from the path", id: json["id"]?.stringValue))
            }
        } else {
            members.append(("tripId", .string(tripId)))
        }
        members.removeAll { $0.0 == "type" }
        members.append(("type", .string(type)))
        return decodeObject(.object(members))
    }

    func decodeObject(_ json: JSON) -> Result<Request, ProtocolError> {
        guard case .object = json else { return .failure(ProtocolError(.badRequest, "a message must be a JSON object")) }
        var id: String?
        if let rawId = json["id"] {
            guard case let .string(s) = rawId, s.unicodeScalars.count <= 64 else {
                return .failure(ProtocolError(.badRequest, "id must be a string of at most 64 characters"))
            }
            id = s
        }
        func fail(_ code: ErrorCode, _ m: String) -> Result<Request, ProtocolError> {
            .failure(ProtocolError(code, m, id: id))
        }
        guard let typeValue = json["type"] else { return fail(.badRequest, "type is missing") }
        guard case let .string(type) = typeValue else { return fail(.badRequest, "type must be a string") }

        do {
            switch type {
            case "subscribe":
                let trip = try tripId(json)
                var since: StreamPosition?
                if let s = json["since"], s != .null {
                    guard case .object = s, let epoch = s["epoch"]?.stringValue, epoch.utf8.count <= 64,
                          let seq = s["seq"]?.int64Value, seq >= 0 else {
                        throw ProtocolError(.badRequest, "since must be {\"epoch\":string,\"seq\":non-negative integer}")
                    }
                    since = StreamPosition(epoch: epoch, seq: seq)
                }
                var compact = false
                if let c = json["compact"], c != .null {
                    guard case let .bool(b) = c else { throw ProtocolError(.badRequest, "compact must be true or false") }
                    compact = b
                }
                return .success(Request(id: id, .subscribe(tripId: trip, since: since), compact: compact))
            case "unsubscribe":
                return .success(Request(id: id, .unsubscribe(tripId: try tripId(json))))
            case "reserve":
                let trip = try tripId(json)
                let seats = try seatSelection(json)
                var hold: String?
                if let h = json["hold"], h != .null { hold = try holdToken(h) }
                return .success(Request(id: id, .reserve(tripId: trip, seats: seats, hold: hold)))
            case "extend":
                let trip = try tripId(json)
                guard let h = json["hold"], h != .null else { throw ProtocolError(.badRequest, "hold is missing") }
                let hold = try holdToken(h)
                var seconds: Int?
                if let v = json["seconds"], v != .null { seconds = try extendSeconds(v) }
                return .success(Request(id: id, .extend(tripId: trip, hold: hold, seconds: seconds)))
            case "confirm", "release":
                let trip = try tripId(json)
                let seats = try seatList(json)
                guard let h = json["hold"], h != .null else {
                    // Version 1.1: `release` with seats and no hold frees them whoever holds them.
                    if type == "release", let seats { return .success(Request(id: id, .releaseSeats(tripId: trip, seats: seats))) }
                    throw ProtocolError(.badRequest, "hold is missing")
                }
                let hold = try holdToken(h)
                return .success(Request(id: id, type == "confirm"
                    ? .confirm(tripId: trip, seats: seats, hold: hold)
                    : .release(tripId: trip, seats: seats, hold: hold)))
            case "auth":
                return .success(Request(id: id, .auth(token: try authToken(json["token"]))))
            case "ping":
                return .success(Request(id: id, .ping))
            case "help":
                return .success(Request(id: id, .help))
            default:
                return fail(.unknownType, "unknown type \(Self.quoted(type))")
            }
        } catch var e as ProtocolError {
            e.id = id
            return .failure(e)
        } catch {
            return fail(.internal, "\(error)")
        }
    }

    func tripId(_ json: JSON) throws -> String {
        guard let v = json["tripId"] else { throw ProtocolError(.badRequest, "tripId is missing") }
        guard case let .string(s) = v else { throw ProtocolError(.badRequest, "tripId must be a string") }
        guard Validation.isTripId(s) else { throw ProtocolError(.unknownTrip, "unknown trip \(Self.quoted(s))") }
        return s
    }

    /// The token of an `auth`: a non-empty string. Whether it is a valid token is the
    /// server's question (`BuyerToken.verify`), answered `unauthorized`.
    func authToken(_ v: JSON?) throws -> String {
        guard let v, v != .null else { throw ProtocolError(.badRequest, "token is missing") }
        guard case let .string(s) = v, !s.isEmpty else { throw ProtocolError(.badRequest, "token must be a non-empty string") }
        return s
    }

    func holdToken(_ v: JSON) throws -> String {
        guard case let .string(s) = v, Validation.isHoldToken(s) else {
            throw ProtocolError(.badRequest, "hold must be 16 to 128 characters of A-Z a-z 0-9 _ -")
        }
        return s
    }

    /// What a `reserve` asks for: `seats`/`seatNo`, or `count` with an optional `together`
    /// (best available), never both.
    func seatSelection(_ json: JSON) throws -> SeatSelection {
        func given(_ key: String) -> JSON? { json[key].flatMap { $0 == .null ? nil : $0 } }
        let together = given("together")
        guard let count = given("count") else {
            if together != nil { throw ProtocolError(.badRequest, "together goes with count") }
            guard let seats = try seatList(json) else { throw ProtocolError(.badRequest, "seats must be a non-empty list") }
            return .listed(seats)
        }
        if given("seats") != nil || given("seatNo") != nil {
            throw ProtocolError(.badRequest, "give either seats or count, not both")
        }
        return .best(count: try seatCount(count), together: try together.map { v in
            guard case let .bool(b) = v else { throw ProtocolError(.badRequest, "together must be true or false") }
            return b
        } ?? false)
    }

    /// `count` of a best-available reserve: 1 to the seats-per-request limit.
    func seatCount(_ v: JSON) throws -> Int {
        guard let n = v.int64Value, n >= 1 else {
            throw ProtocolError(.badRequest, "count must be a whole number from 1 to \(limits.maxSeatsPerRequest)")
        }
        if n > Int64(limits.maxSeatsPerRequest) {
            throw ProtocolError(.tooLarge, "at most \(limits.maxSeatsPerRequest) seats per request")
        }
        return Int(n)
    }

    /// `seconds` of an `extend`: 1 to `maxExtendSeconds`.
    func extendSeconds(_ v: JSON) throws -> Int {
        guard let n = v.int64Value, n >= 1, n <= Int64(Self.maxExtendSeconds) else {
            throw ProtocolError(.badRequest, "seconds must be a whole number from 1 to \(Self.maxExtendSeconds)")
        }
        return Int(n)
    }

    /// `seats` (a list) or `seatNo` (one string); nil when neither is given.
    func seatList(_ json: JSON) throws -> [String]? {
        var names: [String]
        if let v = json["seats"], v != .null {
            guard case let .array(items) = v else { throw ProtocolError(.badRequest, "seats must be a non-empty list") }
            names = []
            names.reserveCapacity(items.count)
            for item in items {
                guard case let .string(s) = item else { throw ProtocolError(.badRequest, "seats must be a list of strings") }
                names.append(s)
            }
        } else if let v = json["seatNo"], v != .null {
            guard case let .string(s) = v else { throw ProtocolError(.badRequest, "seatNo must be a string") }
            names = [s]
        } else {
            return nil
        }
        return try checkSeats(names)
    }

    func checkSeats(_ names: [String]) throws -> [String] {
        if names.isEmpty { throw ProtocolError(.badRequest, "seats must be a non-empty list") }
        if names.count > limits.maxSeatsPerRequest {
            throw ProtocolError(.tooLarge, "at most \(limits.maxSeatsPerRequest) seats per request")
        }
        for s in names where !Validation.isSeatNo(s) {
            throw ProtocolError(.unknownSeat, "unknown seat \(Self.quoted(s))")
        }
        if Set(names).count != names.count { throw ProtocolError(.badRequest, "seats must not repeat") }
        return names
    }

    /// A string for an error message, quoted and cut short so an error never echoes a flood back.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for (n, ch) in s.unicodeScalars.enumerated() {
            if n == 40 { out += "..."; break }
            out.unicodeScalars.append(ch.properties.isWhitespace || ch.value < 0x20 ? " " : ch)
        }
        return out + "\""
    }

    // MARK: Words

    func decodeWords(_ text: String) -> Result<Request, ProtocolError> {
        // Split on scalars, not Characters: "\r\n" is one Character equal to neither "\r" nor "\n".
        let words = text.unicodeScalars
            .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            .map { String(String.UnicodeScalarView($0)) }
        guard let verb = words.first else { return .failure(ProtocolError(.badRequest, "empty message; try help")) }
        let args = Array(words.dropFirst())
        func trip(_ i: Int, usage: String) throws -> String {
            guard i < args.count else { throw ProtocolError(.badRequest, "usage: \(usage)") }
            guard Validation.isTripId(args[i]) else { throw ProtocolError(.unknownTrip, "unknown trip \(Self.quoted(args[i]))") }
            return args[i]
        }
        do {
            switch verb.lowercased() {
            case "sub", "subscribe":
                return .success(Request(.subscribe(tripId: try trip(0, usage: "sub TRIP"), since: nil)))
            case "unsub", "unsubscribe":
                return .success(Request(.unsubscribe(tripId: try trip(0, usage: "unsub TRIP"))))
            case "reserve":
                let usage = "reserve TRIP SEAT... [hold=TOKEN] | reserve TRIP COUNT [together] [hold=TOKEN]"
                let t = try trip(0, usage: usage)
                var hold: String?
                var seats: [String] = []
                for w in args.dropFirst() {
                    if w.hasPrefix("hold=") {
                        hold = try holdToken(.string(String(w.dropFirst(5))))
                    } else {
                        seats.append(w)
                    }
                }
                if seats.isEmpty { throw ProtocolError(.badRequest, "usage: \(usage)") }
                // A number where the first seat would be is a count: the best seats.
                if let first = seats.first, !first.isEmpty, first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                    let rest = seats.dropFirst()
                    guard rest.isEmpty || (rest.count == 1 && rest.first!.lowercased() == "together") else {
                        throw ProtocolError(.badRequest, "usage: \(usage)")
                    }
                    let count = try seatCount(.number(Double(first.prefix(18)) ?? .infinity))
                    return .success(Request(.reserve(tripId: t, seats: .best(count: count, together: !rest.isEmpty), hold: hold)))
                }
                return .success(Request(.reserve(tripId: t, seats: .listed(try checkSeats(seats)), hold: hold)))
            case "extend":
                let usage = "extend TRIP HOLD [SECONDS]"
                let t = try trip(0, usage: usage)
                guard args.count == 2 || args.count == 3 else { throw ProtocolError(.badRequest, "usage: \(usage)") }
                let hold = try holdToken(.string(args[1]))
                var seconds: Int?
                if args.count == 3 {
                    guard args[2].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Double(args[2].prefix(18)) else {
                        throw ProtocolError(.badRequest, "usage: \(usage)")
                    }
                    seconds = try extendSeconds(.number(n))
                }
                return .success(Request(.extend(tripId: t, hold: hold, seconds: seconds)))
            case "confirm", "release":
                let usage = "\(verb.lowercased()) TRIP HOLD [SEAT...]"
                let t = try trip(0, usage: usage)
                guard args.count >= 2 else { throw ProtocolError(.badRequest, "usage: \(usage)") }
                let hold = try holdToken(.string(args[1]))
                let seats = args.count > 2 ? try checkSeats(Array(args[2...])) : nil
                return .success(Request(verb.lowercased() == "confirm"
                    ? .confirm(tripId: t, seats: seats, hold: hold)
                    : .release(tripId: t, seats: seats, hold: hold)))
            case "auth":
                guard args.count == 1 else { throw ProtocolError(.badRequest, "usage: auth TOKEN") }
                return .success(Request(.auth(token: args[0])))
            case "ping":
                return .success(Request(.ping))
            case "help", "?":
                return .success(Request(.help))
            default:
                return .failure(ProtocolError(.unknownType, "unknown command \(Self.quoted(verb)); try help"))
            }
        } catch let e as ProtocolError {
            return .failure(e)
        } catch {
            return .failure(ProtocolError(.internal, "\(error)"))
        }
    }
}

/// `POST /api/trips` (version 1.1): the trip the site's backend asks for.
public struct TripSpec: Sendable, Equatable {
    public var tripId: String
    public var name: String
    public var rows: Int
    public var cols: Int

    public init(tripId: String, name: String, rows: Int, cols: Int) {
        self.tripId = tripId
        self.name = name
        self.rows = rows
        self.cols = cols
    }

    /// The longest trip name, in characters (as `seatcast trip create` takes it).
    public static let maxNameLength = 200

    /// `{"tripId","name","rows","cols"}`, checked as `seatcast trip create` checks its
    /// arguments: a valid trip id, a name of 1-200 characters, rows and cols within
    /// `Validation`'s limits. Every failure is a `bad_request` (unknown members are ignored).
    public static func decode(_ body: [UInt8]) -> Result<TripSpec, ProtocolError> {
        func bad(_ m: String) -> Result<TripSpec, ProtocolError> { .failure(ProtocolError(.badRequest, m)) }
        let json: JSON
        do {
            json = try JSON.parse(body)
        } catch {
            return bad("malformed JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object = json else { return bad("the body must be a JSON object") }
        guard let id = json["tripId"]?.stringValue, Validation.isTripId(id) else {
            return bad("tripId must be 1-64 of A-Z a-z 0-9 _ -")
        }
        guard let name = json["name"]?.stringValue, !name.isEmpty, name.count <= maxNameLength else {
            return bad("name must be a string of 1-\(maxNameLength) characters")
        }
        guard let r = json["rows"]?.int64Value, (1...Int64(Validation.maxTripRows)).contains(r) else {
            return bad("rows must be a whole number from 1 to \(Validation.maxTripRows)")
        }
        guard let c = json["cols"]?.int64Value, (1...Int64(Validation.maxTripCols)).contains(c) else {
            return bad("cols must be a whole number from 1 to \(Validation.maxTripCols)")
        }
        guard Validation.isTripSize(rows: Int(r), cols: Int(c)) else {
            return bad("rows x cols must be at most \(Validation.maxTripSeats) seats")
        }
        return .success(TripSpec(tripId: id, name: name, rows: Int(r), cols: Int(c)))
    }
}

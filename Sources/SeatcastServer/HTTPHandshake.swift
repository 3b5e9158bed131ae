import Foundation

/// The checks RFC 6455 4.2.1 asks of a WebSocket upgrade that libwebsockets 4.1.6 leaves
/// out (it upgrades any key and any version), plus the subprotocol rule. Pure.
enum WebSocketHandshake {
    /// The only subprotocol a client may ask for (or none).
    static let subprotocol = "seatcast.v1"
    /// Every name lws would accept as a subprotocol: the protocol table, including the
    /// internal HTTP protocol, which is only a name for lws's mount table.
    static let lwsProtocolNames = ["seatcast.v1", "seatcast-http"]

    struct Refusal: Equatable {
        var status: Int
        var message: String
        var headers: [HTTPHeader] = []
    }

    /// Why the upgrade must be refused, or nil to let lws go ahead.
    static func check(key: String?, version: String?, protocols: String?) -> Refusal? {
        guard version?.trimmingCharacters(in: .whitespaces) == "13" else {
            return Refusal(status: 426, message: "Sec-WebSocket-Version must be 13\n",
                           headers: [HTTPHeader("sec-websocket-version", "13")])
        }
        guard let key, isValidKey(key) else {
            return Refusal(status: 400, message: "Sec-WebSocket-Key must be 16 bytes in base64\n")
        }
        if let protocols, !protocols.trimmingCharacters(in: .whitespaces).isEmpty,
           chosenProtocol(protocols) != subprotocol {
            return Refusal(status: 400, message: "unsupported subprotocol: offer \(subprotocol) or none\n")
        }
        return nil
    }

    /// Whether a WebSocket upgrade's `Origin` may connect: no Origin (a CLI, not a browser)
    /// always; otherwise one of `allowList`, or, when that is empty, the server's own origin:
    /// `http://` or `https://` followed by the request's Host (ASCII case ignored). Used when
    /// a secret is configured (docs/PROTOCOL.md 1.1, "Origin").
    static func originAllowed(_ origin: String?, host: String?, allowList: [String]) -> Bool {
        guard let origin else { return true }
        if !allowList.isEmpty { return allowList.contains(origin) }
        guard let host, !host.isEmpty else { return false }
        let o = origin.lowercased(), h = host.lowercased()
        return o == "http://" + h || o == "https://" + h
    }

    /// 16 random bytes in base64 (24 characters with padding), RFC 6455 4.1 item 7.
    static func isValidKey(_ key: String) -> Bool {
        let k = key.trimmingCharacters(in: .whitespaces)
        guard k.utf8.count == 24, let bytes = Data(base64Encoded: k) else { return false }
        return bytes.count == 16
    }

    /// The subprotocol lws would pick from an offer: the first offered name it knows.
    static func chosenProtocol(_ offer: String) -> String? {
        offer.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { lwsProtocolNames.contains($0) }
    }
}

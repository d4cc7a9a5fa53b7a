import Foundation
import HTTPTypes
import PodKV

/// An error answered to the client as an OpenAI-style body:
/// `{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// OpenAI error type: `invalid_request_error`, `server_busy`, `not_found_error`, `server_error`.
    public var type: String
    public var message: String
    /// The request field at fault, when there is one.
    public var param: String?

    public init(status: HTTPResponse.Status, type: String, message: String, param: String? = nil) {
        self.status = status
        self.type = type
        self.message = message
        self.param = param
    }

    /// 400 for a bad request field.
    public static func invalid(_ message: String, param: String? = nil) -> APIError {
        APIError(status: .badRequest, type: "invalid_request_error", message: message, param: param)
    }

    public var description: String { "\(status.code) \(type): \(message)" }

    /// JSON body of the error.
    public var body: Data {
        let payload = ErrorEnvelope(error: .init(message: message, type: type, param: param, code: status.code))
        return (try? JSONEncoder().encode(payload)) ?? Data("{\"error\":{\"message\":\"internal error\"}}".utf8)
    }

    private struct ErrorEnvelope: Encodable {
        struct Detail: Encodable {
            var message: String
            var type: String
            var param: String?
            var code: Int
        }
        var error: Detail
    }

    /// Maps an engine or library error to the status a client should see.
    public static func from(_ error: Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as PolicyError: return .invalid(e.description, param: "kv_policy")
        case let e as PoDPlanError: return .invalid("\(e)", param: "kv_policy")
        case let e as EngineError:
            switch e {
            case .emptyPrompt, .promptTooLong, .invalidOption: return .invalid(e.description)
            case .invalidModel: return APIError(status: .internalServerError, type: "server_error", message: e.description)
            }
        case let e as SamplingOptionsError: return .invalid(e.description)
        case let e as KVStateError:
            switch e {
            case .policyMismatch, .modelMismatch, .unsupportedPolicy:
                return APIError(status: .conflict, type: "invalid_request_error", message: e.description)
            case .truncated, .corrupt, .unsupportedVersion:
                return APIError(status: .unprocessableContent, type: "invalid_request_error", message: e.description)
            case .io(let why):
                return APIError(status: .internalServerError, type: "server_error", message: why)
            }
        case let e as ComputeQueueError:
            return APIError(status: .tooManyRequests, type: "server_busy", message: e.description)
        default:
            return APIError(status: .internalServerError, type: "server_error", message: "\(error)")
        }
    }
}

import Foundation
import GovCore
import Vapor

extension Response {
    /// A file the browser saves (never shows inline in our origin): the type, and a
    /// Content-Disposition with an ASCII name for old clients and the UTF-8 name (RFC 6266).
    static func download(_ data: Data, contentType: String, filename: String) -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: contentType)
        let ascii = filename.unicodeScalars.filter { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 32 }
            .map(String.init).joined()
        let encoded = filename.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "file"
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }

    /// A CSV file to save, UTF-8.
    static func csvDownload(_ text: String, filename: String) -> Response {
        download(Data(text.utf8), contentType: "text/csv; charset=utf-8", filename: filename)
    }
}

extension Request {
    /// Refuses a form that is not multipart/form-data (a file upload form) with 415
    /// `unsupported_media_type`: a text/plain or JSON body would otherwise reach the decoder and
    /// come back as a confusing 400 "invalid value in field".
    func requireMultipartForm() throws {
        guard let type = headers.contentType, type.type == "multipart", type.subType == "form-data" else {
            throw GovError("unsupported_media_type", .unsupportedMediaType,
                           vi: "Gửi biểu mẫu dạng multipart/form-data (biểu mẫu có tải tệp).",
                           en: "Send the form as multipart/form-data (a form with a file upload).")
        }
    }
}

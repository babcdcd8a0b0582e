using System.IO.Compression;
using MimeKit;

namespace Mailroom.Mail.DmarcReports;

/// <summary>What the first bytes of a payload say it is (the name and MIME type are attacker-controlled and often
/// wrong: Amazon SES sends <c>application/octet-stream</c>, some reporters label gzip as zip).</summary>
public enum PayloadKind { Unknown, Xml, Gzip, Zip }

/// <summary>One report document found in a file or message: its decompressed bytes are read from <see cref="Content"/>,
/// which refuses to yield more than <see cref="DmarcReportLimits.MaxXmlBytes"/>.</summary>
public sealed record ReportDocument(string? Name, string Packaging, Stream Content);

/// <summary>
/// Finds the aggregate report documents in a bare file or in an email, whatever their packaging: XML, gzip (also gzip
/// in gzip), zip (also gzip in zip), a message whose whole body is the archive, or attachments nested in
/// multipart/mixed &gt; related &gt; alternative. The type is sniffed from magic numbers only. Sizes are counted while
/// streaming (never taken from a gzip trailer or a zip header), zip entries and nesting depth are capped.
/// </summary>
public static class ReportPayloads
{
    private static ReadOnlySpan<byte> GzipMagic => [0x1F, 0x8B];
    private static ReadOnlySpan<byte> ZipMagic => [0x50, 0x4B, 0x03, 0x04];

    /// <summary>Sniffs the kind of a payload from its first bytes.</summary>
    public static PayloadKind Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith(GzipMagic)) return PayloadKind.Gzip;
        if (head.StartsWith(ZipMagic)) return PayloadKind.Zip;
        // UTF-16 with a BOM, or '<' as UTF-16 without one.
        if (head.Length >= 2 && ((head[0] == 0xFF && head[1] == 0xFE) || (head[0] == 0xFE && head[1] == 0xFF))) return PayloadKind.Xml;
        if (head.Length >= 2 && ((head[0] == '<' && head[1] == 0) || (head[0] == 0 && head[1] == '<'))) return PayloadKind.Xml;
        var i = head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        while (i < head.Length && head[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
        return i < head.Length && head[i] == '<' ? PayloadKind.Xml : PayloadKind.Unknown;
    }

    /// <summary>
    /// Calls <paramref name="report"/> for each report document in a bare file: XML, gzip, zip or a whole email
    /// (anything else is parsed as RFC 5322 mail). The document's stream is valid only during the call.
    /// </summary>
    /// <returns>How many documents were found.</returns>
    /// <exception cref="DmarcReportException">No report was found, or the input broke a limit.</exception>
    public static int Extract(Stream input, Action<ReportDocument> report, DmarcReportLimits? limits = null, string? name = null)
    {
        limits ??= DmarcReportLimits.Default;
        var peek = new PeekStream(input);
        var count = 0;
        if (Sniff(peek.Peek(HeadLength)) == PayloadKind.Unknown)
        {
            MimeMessage message;
            try
            {
                message = MimeMessage.Load(peek);
            }
            catch (FormatException e)
            {
                throw new DmarcReportException("Not a report: neither XML, gzip, zip nor an email.", e);
            }
            return Extract(message, report, limits);
        }
        Unpack(peek, name, "", 0, limits, report, ref count);
        return count;
    }

    /// <summary>Calls <paramref name="report"/> for each report document attached to (or making up) an email.</summary>
    /// <exception cref="DmarcReportException">No report was found, or a part broke a limit.</exception>
    public static int Extract(MimeMessage message, Action<ReportDocument> report, DmarcReportLimits? limits = null)
    {
        limits ??= DmarcReportLimits.Default;
        var count = 0;
        foreach (var part in message.BodyParts.OfType<MimePart>())
        {
            if (part.Content is null) continue;
            using var decoded = new MemoryStream();
            part.Content.DecodeTo(decoded);
            decoded.Position = 0;
            var head = decoded.GetBuffer().AsSpan(0, (int)Math.Min(HeadLength, decoded.Length));
            var kind = Sniff(head);
            // The body text of a report mail ("This is an aggregate report…") is not a report; only sniffed payloads are.
            if (kind == PayloadKind.Unknown) continue;
            // An XML part that is not DMARC (say an XML invoice) is left for the parser to refuse.
            Unpack(decoded, part.FileName ?? part.ContentType.Name, "", 0, limits, report, ref count);
        }
        if (count == 0) throw new DmarcReportException("The message holds no DMARC report (no XML, gzip or zip part).");
        return count;
    }

    private const int HeadLength = 8;

    private static void Unpack(Stream input, string? name, string packaging, int depth, DmarcReportLimits limits,
        Action<ReportDocument> report, ref int count)
    {
        var peek = input as PeekStream ?? new PeekStream(input);
        var kind = Sniff(peek.Peek(HeadLength));
        try
        {
            switch (kind)
            {
                case PayloadKind.Xml:
                    if (++count > limits.MaxReports)
                        throw new DmarcReportException($"More than {limits.MaxReports} reports in one message or file.");
                    using (var capped = new CappedStream(peek, limits.MaxXmlBytes, "The report"))
                        report(new ReportDocument(name, packaging + "xml", capped));
                    break;
                case PayloadKind.Gzip:
                    if (depth >= limits.MaxArchiveDepth) throw TooDeep(limits);
                    // GZipStream reads concatenated members too (RFC 1952 §2.2); the cap counts what it yields.
                    using (var gzip = new CappedStream(new GZipStream(peek, CompressionMode.Decompress), limits.MaxXmlBytes,
                               "The decompressed report"))
                        Unpack(gzip, StripExtension(name, ".gz"), packaging + "gzip+", depth + 1, limits, report, ref count);
                    break;
                case PayloadKind.Zip:
                    if (depth >= limits.MaxArchiveDepth) throw TooDeep(limits);
                    UnpackZip(peek, packaging, depth, limits, report, ref count);
                    break;
                default:
                    throw new DmarcReportException(depth == 0
                        ? "Not a report: neither XML, gzip nor zip."
                        : $"An archive ({packaging.TrimEnd('+')}) holds something that is neither XML, gzip nor zip.");
            }
        }
        catch (InvalidDataException e)
        {
            throw new DmarcReportException($"Corrupt {kind.ToString().ToLowerInvariant()} data: {e.Message}", e);
        }
    }

    private static void UnpackZip(Stream input, string packaging, int depth, DmarcReportLimits limits,
        Action<ReportDocument> report, ref int count)
    {
        // A zip's directory is at its end, so the archive must be seekable; a non-seekable one is copied, capped.
        Stream seekable = input;
        if (!input.CanSeek)
        {
            var copy = new MemoryStream();
            using (var capped = new CappedStream(input, limits.MaxXmlBytes, "The zip archive")) capped.CopyTo(copy);
            copy.Position = 0;
            seekable = copy;
        }
        using var zip = new ZipArchive(seekable, ZipArchiveMode.Read, leaveOpen: false);
        if (zip.Entries.Count > limits.MaxZipEntries)
            throw new DmarcReportException($"The zip archive has {zip.Entries.Count} entries; at most {limits.MaxZipEntries} are read.");
        var found = false;
        foreach (var entry in zip.Entries)
        {
            // Directories and macOS resource forks (__MACOSX/, ._name) are packaging junk, not reports.
            if (entry.FullName.EndsWith('/') || entry.FullName.StartsWith("__MACOSX/", StringComparison.Ordinal) ||
                entry.Name.StartsWith("._", StringComparison.Ordinal))
                continue;
            using var content = entry.Open();
            var peek = new PeekStream(content);
            if (Sniff(peek.Peek(HeadLength)) == PayloadKind.Unknown) continue;
            found = true;
            Unpack(peek, entry.Name.Length == 0 ? null : entry.Name, packaging + "zip+", depth + 1, limits, report, ref count);
        }
        if (!found) throw new DmarcReportException("The zip archive holds no XML, gzip or zip entry.");
    }

    private static string? StripExtension(string? name, string extension) =>
        name is not null && name.EndsWith(extension, StringComparison.OrdinalIgnoreCase) ? name[..^extension.Length] : name;

    private static DmarcReportException TooDeep(DmarcReportLimits limits) =>
        new($"Archives are nested more than {limits.MaxArchiveDepth} deep.");
}

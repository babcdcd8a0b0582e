using System.Globalization;
using System.Net;
using System.Text;
using System.Xml;

namespace Mailroom.Mail.DmarcReports;

/// <summary>
/// Streaming reader of one DMARC aggregate report document (RFC 7489 Appendix C; RFC 9990 and its draft namespaces).
/// Elements are matched on local names in any namespace, unknown elements and <c>extension</c>s are skipped, and rows
/// are handed out one at a time so a 100,000-row report never sits in memory. The report-level header is read on
/// <see cref="Open"/> (reporters put it before the rows); fields that come after the rows are added as they are met.
/// Hostile input: DTDs are prohibited and nothing is resolved (no XXE, no entity expansion), element depth and row
/// count are capped, and the input size is capped by the stream the caller gives (see <see cref="ReportPayloads"/>).
/// Malformed XML is refused with a <see cref="DmarcReportException"/>; nothing is guessed.
/// </summary>
public sealed class AggregateReportReader : IDisposable
{
    private readonly XmlReader _xml;
    private readonly DmarcReportLimits _limits;
    private readonly int _feedbackDepth;
    private long _records;
    private bool _done;
    /// <summary>False when the last element handled was consumed and the reader already sits on the next node.</summary>
    private bool _needRead = true;

    public AggregateReportHeader Header { get; } = new();

    private AggregateReportReader(XmlReader xml, DmarcReportLimits limits, int feedbackDepth)
    {
        _xml = xml;
        _limits = limits;
        _feedbackDepth = feedbackDepth;
    }

    /// <summary>Settings for untrusted XML: no DTD (RFC 7489 reports never have one), no resolver, no comments.</summary>
    public static XmlReaderSettings SafeSettings() => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = true,
        CloseInput = true,
        MaxCharactersFromEntities = 1024,
    };

    /// <summary>Parses a whole report into memory (small reports, tests).</summary>
    public static AggregateReport Parse(Stream xml, DmarcReportLimits? limits = null)
    {
        using var reader = Open(xml, limits);
        var records = reader.ReadRecords().ToList();
        return new AggregateReport(reader.Header, records);
    }

    public static AggregateReport Parse(byte[] xml, DmarcReportLimits? limits = null) => Parse(new MemoryStream(xml), limits);

    /// <summary>Opens a report document and reads its header up to the first row.</summary>
    /// <exception cref="DmarcReportException">The document is not a well-formed aggregate report.</exception>
    public static AggregateReportReader Open(Stream xml, DmarcReportLimits? limits = null)
    {
        limits ??= DmarcReportLimits.Default;
        var xmlReader = ReportText.CreateXmlReader(xml);
        try
        {
            // The root is <feedback>; an IKEA report wrapped it in an unclosed <xs:schema>, so look a few levels down.
            while (true)
            {
                if (!xmlReader.Read())
                    throw new DmarcReportException("Not a DMARC aggregate report: no <feedback> element.");
                if (xmlReader.NodeType != XmlNodeType.Element) continue;
                if (xmlReader.Depth > limits.MaxElementDepth) throw TooDeep(limits);
                if (xmlReader.LocalName == "feedback") break;
                if (xmlReader.Depth >= 2)
                    throw new DmarcReportException($"Not a DMARC aggregate report: the root element is <{xmlReader.Name}>.");
            }
            var reader = new AggregateReportReader(xmlReader, limits, xmlReader.Depth);
            reader.Header.Namespace = xmlReader.NamespaceURI;
            if (xmlReader.IsEmptyElement) reader._done = true;
            reader.ReadHeaderUntilRecord();
            return reader;
        }
        catch (XmlException e)
        {
            xmlReader.Dispose();
            throw Malformed(e);
        }
        catch
        {
            xmlReader.Dispose();
            throw;
        }
    }

    private bool _atRecord;

    /// <summary>Reads the rows one by one. Header fields that follow the rows are in <see cref="Header"/> once this ends.</summary>
    public IEnumerable<AggregateRecord> ReadRecords()
    {
        while (true)
        {
            AggregateRecord? record;
            try
            {
                if (!_atRecord) ReadHeaderUntilRecord();
                if (!_atRecord) yield break;
                _atRecord = false;
                if (++_records > _limits.MaxRecords)
                    throw new DmarcReportException($"The report has more than {_limits.MaxRecords} records.");
                record = ReadRecord();
            }
            catch (XmlException e)
            {
                throw Malformed(e);
            }
            yield return record;
        }
    }

    /// <summary>Moves to the next <c>record</c> start tag inside <c>feedback</c>, reading header elements on the way.</summary>
    private void ReadHeaderUntilRecord()
    {
        while (!_done)
        {
            if (_needRead && !_xml.Read()) { _done = true; throw new DmarcReportException("The report ends before </feedback>."); }
            if (_xml.NodeType == XmlNodeType.None) { _done = true; throw new DmarcReportException("The report ends before </feedback>."); }
            _needRead = false;
            if (_xml.NodeType == XmlNodeType.EndElement && _xml.Depth == _feedbackDepth)
            {
                // Stop at </feedback>: anything after it (trailing NULs, junk, the rest of a wrapper) is never read.
                _done = true;
                return;
            }
            if (_xml.NodeType != XmlNodeType.Element || _xml.Depth != _feedbackDepth + 1) { _needRead = true; continue; }
            if (_xml.Depth > _limits.MaxElementDepth) throw TooDeep(_limits);
            switch (_xml.LocalName)
            {
                case "record":
                    if (_xml.IsEmptyElement) { _needRead = true; continue; }
                    _atRecord = true;
                    return;
                case "version":
                    Header.Version = ReadText();
                    break;
                case "report_metadata":
                    ReadChildren(name =>
                    {
                        switch (name)
                        {
                            case "org_name": Header.OrgName = ReadText(); break;
                            case "email": Header.Email = ReadText(); break;
                            case "extra_contact_info": Header.ExtraContactInfo = ReadText(); break;
                            case "report_id": Header.ReportId = ReadText(); break;
                            case "error": if (ReadText() is { } error) Header.Errors.Add(error); break;
                            case "generator": Header.Generator = ReadText(); break;
                            case "date_range":
                                ReadChildren(part =>
                                {
                                    if (part == "begin") Header.Begin = ReadEpoch("begin");
                                    else if (part == "end") Header.End = ReadEpoch("end");
                                    else Skip();
                                });
                                break;
                            default: Skip(); break;
                        }
                    });
                    break;
                case "policy_published":
                    ReadChildren(name =>
                    {
                        switch (name)
                        {
                            case "domain": Header.Domain = ReadText()?.ToLowerInvariant().TrimEnd('.'); break;
                            case "adkim": Header.Adkim = ReadToken(); break;
                            case "aspf": Header.Aspf = ReadToken(); break;
                            case "p": Header.Policy = ReadToken(); break;
                            case "sp": Header.SubdomainPolicy = ReadToken(); break;
                            case "np": Header.NonexistentSubdomainPolicy = ReadToken(); break;
                            case "pct": Header.Percentage = ReadInt("pct"); break;
                            case "fo": Header.FailureOptions = ReadText(); break;
                            case "testing": Header.Testing = ReadToken(); break;
                            case "discovery_method": Header.DiscoveryMethod = ReadToken(); break;
                            default: Skip(); break;
                        }
                    });
                    break;
                default:
                    Skip();
                    break;
            }
        }
    }

    private AggregateRecord ReadRecord()
    {
        var record = new AggregateRecord();
        ReadChildren(section =>
        {
            switch (section)
            {
                case "row":
                    ReadChildren(name =>
                    {
                        switch (name)
                        {
                            case "source_ip": SetSourceIp(record, ReadText()); break;
                            case "count": record.Count = ReadLong("count") ?? 0; break;
                            case "policy_evaluated":
                                ReadChildren(p =>
                                {
                                    switch (p)
                                    {
                                        case "disposition": record.Disposition = ReadToken(); break;
                                        case "dkim": record.PolicyDkim = ReadToken(); break;
                                        case "spf": record.PolicySpf = ReadToken(); break;
                                        case "reason":
                                            string? type = null, comment = null;
                                            ReadChildren(r =>
                                            {
                                                if (r == "type") type = ReadToken();
                                                else if (r == "comment") comment = ReadText();
                                                else Skip();
                                            });
                                            // An empty <reason/> says nothing; keep only reasons with content.
                                            if (type is not null || comment is not null) record.Reasons.Add(new(type, comment));
                                            break;
                                        default: Skip(); break;
                                    }
                                });
                                break;
                            default: Skip(); break;
                        }
                    });
                    break;
                case "identifiers":
                    ReadChildren(name =>
                    {
                        switch (name)
                        {
                            case "header_from": record.HeaderFrom = ReadText()?.ToLowerInvariant(); break;
                            case "envelope_from": record.EnvelopeFrom = ReadText()?.ToLowerInvariant(); break;
                            case "envelope_to": record.EnvelopeTo = ReadText()?.ToLowerInvariant(); break;
                            default: Skip(); break;
                        }
                    });
                    break;
                case "auth_results":
                    ReadChildren(name =>
                    {
                        string? domain = null, selector = null, scope = null, result = null, human = null;
                        if (name is not ("dkim" or "spf")) { Skip(); return; }
                        ReadChildren(f =>
                        {
                            switch (f)
                            {
                                case "domain": domain = ReadText()?.ToLowerInvariant(); break;
                                case "selector": selector = ReadText(); break;
                                case "scope": scope = ReadToken(); break;
                                case "result": result = ReadToken(); break;
                                case "human_result": human = ReadText(); break;
                                default: Skip(); break;
                            }
                        });
                        if (name == "dkim") record.Dkim.Add(new(domain, selector, result, human));
                        else record.Spf.Add(new(domain, scope, result, human));
                    });
                    break;
                default:
                    Skip();
                    break;
            }
        });
        return record;
    }

    private static void SetSourceIp(AggregateRecord record, string? text)
    {
        text ??= "";
        if (IPAddress.TryParse(text, out var ip))
        {
            if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
            record.SourceIp = ip.ToString();
            record.SourceIpVersion = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 6 : 4;
        }
        else
        {
            record.SourceIp = text;
            record.SourceIpVersion = 0;
        }
    }

    /// <summary>Calls <paramref name="child"/> for each child element of the current element, positioned on its start
    /// tag; the callback must consume the element (read its text, read its children or skip it).</summary>
    private void ReadChildren(Action<string> child)
    {
        if (_xml.IsEmptyElement) { _xml.Read(); return; }
        var depth = _xml.Depth;
        if (depth >= _limits.MaxElementDepth) throw TooDeep(_limits);
        _xml.Read();
        while (true)
        {
            if (_xml.NodeType == XmlNodeType.EndElement && _xml.Depth == depth) { _xml.Read(); return; }
            if (_xml.NodeType == XmlNodeType.None) throw new DmarcReportException("The report ends inside an element.");
            if (_xml.NodeType == XmlNodeType.Element) child(_xml.LocalName);
            else _xml.Read(); // stray text between elements: ignored
        }
    }

    private void Skip()
    {
        if (_xml.IsEmptyElement) { _xml.Read(); return; }
        var depth = _xml.Depth;
        while (_xml.Read())
        {
            if (_xml.Depth > _limits.MaxElementDepth) throw TooDeep(_limits);
            if (_xml.NodeType == XmlNodeType.EndElement && _xml.Depth == depth) { _xml.Read(); return; }
        }
        throw new DmarcReportException("The report ends inside an element.");
    }

    /// <summary>Text content of a simple element, trimmed; null when empty. Child elements inside it are refused
    /// by the depth rules only, their text is concatenated.</summary>
    private string? ReadText()
    {
        if (_xml.IsEmptyElement) { _xml.Read(); return null; }
        var depth = _xml.Depth;
        StringBuilder? text = null;
        string? single = null;
        while (_xml.Read())
        {
            if (_xml.Depth > _limits.MaxElementDepth) throw TooDeep(_limits);
            if (_xml.NodeType == XmlNodeType.EndElement && _xml.Depth == depth) { _xml.Read(); break; }
            if (_xml.NodeType is XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.SignificantWhitespace)
            {
                if (single is null) single = _xml.Value;
                else (text ??= new StringBuilder(single)).Append(_xml.Value);
            }
            if (_xml.NodeType == XmlNodeType.None) throw new DmarcReportException("The report ends inside an element.");
        }
        if (_xml.EOF) throw new DmarcReportException("The report ends inside an element.");
        var value = (text?.ToString() ?? single)?.Trim();
        return string.IsNullOrEmpty(value) ? null : value;
    }

    private string? ReadToken() => ReadText()?.ToLowerInvariant();

    private long? ReadLong(string name)
    {
        var text = ReadText();
        if (text is null) return null;
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0) return value;
        throw new DmarcReportException($"<{name}> is not a non-negative integer: '{Truncate(text)}'.");
    }

    private int? ReadInt(string name)
    {
        var value = ReadLong(name);
        return value is null ? null : (int)Math.Min(value.Value, int.MaxValue);
    }

    private DateTimeOffset? ReadEpoch(string name)
    {
        var seconds = ReadLong(name);
        if (seconds is null) return null;
        // RFC 7489 Appendix C: seconds since the epoch, UTC. Years past 9999 are not a date.
        if (seconds > 253402300799) throw new DmarcReportException($"<{name}> is out of range: {seconds}.");
        return DateTimeOffset.FromUnixTimeSeconds(seconds.Value);
    }

    private static string Truncate(string text) => text.Length > 40 ? text[..40] + "…" : text;

    private static DmarcReportException TooDeep(DmarcReportLimits limits) =>
        new($"The report nests elements deeper than {limits.MaxElementDepth} levels.");

    private static DmarcReportException Malformed(XmlException e) =>
        e.Message.Contains("DTD", StringComparison.OrdinalIgnoreCase)
            ? new DmarcReportException("The report has a DOCTYPE; DTDs are refused (no entities, no external references).", e)
            : new DmarcReportException($"The report is not well-formed XML: {e.Message}", e);

    public void Dispose() => _xml.Dispose();
}

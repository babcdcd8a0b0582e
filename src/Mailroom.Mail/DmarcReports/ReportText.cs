using System.Text;
using System.Xml;

namespace Mailroom.Mail.DmarcReports;

/// <summary>
/// Turns the bytes of a report document into an <see cref="XmlReader"/>, tolerating what real reporters send before
/// the XML declaration: a UTF-8 byte order mark, blank lines or other whitespace (an XML declaration must otherwise be
/// first, XML 1.0 §2.8), and UTF-16 with or without a byte order mark. Bytes after <c>&lt;/feedback&gt;</c> (trailing
/// NULs) are never read by <see cref="AggregateReportReader"/>.
/// </summary>
internal static class ReportText
{
    public static XmlReader CreateXmlReader(Stream input)
    {
        var peek = new PeekStream(input);
        var head = peek.Peek(4);
        var settings = AggregateReportReader.SafeSettings();

        Encoding? utf16 = null;
        if (head.Length >= 2 && head[0] == 0xFF && head[1] == 0xFE) utf16 = new UnicodeEncoding(false, true, true);
        else if (head.Length >= 2 && head[0] == 0xFE && head[1] == 0xFF) utf16 = new UnicodeEncoding(true, true, true);
        else if (head.Length >= 2 && head[0] != 0 && head[1] == 0) utf16 = new UnicodeEncoding(false, false, true);
        else if (head.Length >= 2 && head[0] == 0 && head[1] != 0) utf16 = new UnicodeEncoding(true, false, true);

        if (utf16 is not null)
        {
            var text = new StreamReader(peek, utf16, detectEncodingFromByteOrderMarks: true);
            while (text.Peek() is var c && c >= 0 && (char.IsWhiteSpace((char)c) || c == '\uFEFF')) text.Read();
            return XmlReader.Create(text, settings);
        }

        // UTF-8 (or a declared single-byte encoding): drop a BOM and leading whitespace, then let XmlReader honour the
        // declaration. Invalid UTF-8 is refused by the reader rather than guessed at.
        var skip = head.Length >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF ? 3 : 0;
        peek.Discard(skip);
        peek.SkipWhile(b => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n');
        return XmlReader.Create(peek, settings);
    }
}

/// <summary>A read-only stream that lets its first bytes be looked at before they are read.</summary>
internal sealed class PeekStream(Stream inner) : ReadOnlyStream
{
    private byte[] _buffer = [];
    private int _start;

    public byte[] Peek(int count)
    {
        if (_buffer.Length - _start < count)
        {
            var more = new byte[count];
            var have = _buffer.Length - _start;
            Array.Copy(_buffer, _start, more, 0, have);
            while (have < count)
            {
                var n = inner.Read(more, have, count - have);
                if (n == 0) break;
                have += n;
            }
            _buffer = more[..have];
            _start = 0;
        }
        return _buffer[_start..Math.Min(_buffer.Length, _start + count)];
    }

    public void Discard(int count) => _start = Math.Min(_buffer.Length, _start + count);

    public void SkipWhile(Func<byte, bool> predicate)
    {
        while (true)
        {
            var b = Peek(1);
            if (b.Length == 0 || !predicate(b[0])) return;
            Discard(1);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_start < _buffer.Length)
        {
            var n = Math.Min(buffer.Length, _buffer.Length - _start);
            _buffer.AsSpan(_start, n).CopyTo(buffer);
            _start += n;
            return n;
        }
        return inner.Read(buffer);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>Counts the bytes read through it and refuses to go past a cap (decompression bombs cost at most the cap).</summary>
internal sealed class CappedStream(Stream inner, long cap, string what) : ReadOnlyStream
{
    private long _read;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // Ask for at most one byte past the cap so that reaching the cap exactly is still allowed.
        var allowed = (int)Math.Min(buffer.Length, cap - _read + 1);
        if (allowed <= 0) throw Over();
        var n = inner.Read(buffer[..allowed]);
        _read += n;
        if (_read > cap) throw Over();
        return n;
    }

    private DmarcReportException Over() => new($"{what} is larger than the limit of {cap} bytes.");

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}

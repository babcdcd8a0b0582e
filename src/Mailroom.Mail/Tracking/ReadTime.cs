namespace Mailroom.Mail.Tracking;

/// <summary>
/// Read time of an open: how long a mail client kept the message on screen, measured the one way an image can tell —
/// the open image is a GIF sent one frame per second, and a client that stops showing the message stops reading it
/// (the connection closes). The seconds from the request to that close are the read time, up to <see cref="MaxSeconds"/>
/// (the GIF then ends; the open reads "more than 20 s"). GIF89a frames (Graphic Control Extension with a 1 s delay,
/// one transparent 1×1 image each) are valid on their own, so a client that reads to the end has a normal image.
/// Bucketed as the Stats API's <c>/opens/readtimes</c> keys: <c>0s</c> … <c>20s</c>, and <c>20s+</c>.
/// </summary>
public static class ReadTime
{
    /// <summary>Longest read time measured; a client still showing the image then gets the GIF's end.</summary>
    public const int MaxSeconds = 21;

    /// <summary>GIF89a header, logical screen 1×1 and a two-colour global table (black, white); index 0 is transparent in every frame.</summary>
    public static readonly byte[] Head =
    [
        (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a',
        0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
    ];

    /// <summary>One frame: Graphic Control Extension (disposal "leave", transparent index 0, delay 100 × 1/100 s), the
    /// image descriptor of a 1×1 image at 0,0, and its LZW data (minimum code size 2: clear, index 0, end).</summary>
    public static readonly byte[] Frame =
    [
        0x21, 0xF9, 0x04, 0x05, 0x64, 0x00, 0x00, 0x00,
        0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
        0x02, 0x02, 0x44, 0x01, 0x00,
    ];

    /// <summary>The GIF trailer.</summary>
    public static readonly byte[] Trailer = [0x3B];

    /// <summary>Whole seconds between the request and the close, capped at <see cref="MaxSeconds"/>.</summary>
    public static int Seconds(TimeSpan open) => (int)Math.Clamp(Math.Floor(open.TotalSeconds), 0, MaxSeconds);

    /// <summary>The readtimes key of a read time: <c>0s</c> … <c>20s</c>, <c>20s+</c> beyond.</summary>
    public static string Bucket(int seconds) => seconds > 20 ? "20s+" : $"{Math.Max(0, seconds)}s";
}

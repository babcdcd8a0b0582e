using System.Text.Json;
using Mailroom.Api;
using Mailroom.Contracts;

namespace Mailroom.Tests.Api;

/// <summary>
/// The API's JSON of the Contracts records that share fields with a sibling (DMARC record and created record, open and
/// click events, inbound payload, summary and details), frozen byte for byte: a refactor that merges their shapes must
/// leave the wire (property names, order, nulls) exactly as Postmark's clients see it today.
/// </summary>
public sealed class ContractJsonTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);
    private static readonly Guid Id = Guid.Parse("0b8b1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b");

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, ApiConventions.Json);

    [Fact]
    public void DmarcRecordKeepsItsJson() =>
        Assert.Equal("""{"domain":"example.test","public_token":"pub","created_at":"2026-03-04T05:06:07Z","reporting_uri":"mailto:r@dmarc.test","email":"o@example.test"}""",
            Json(new DmarcRecord("example.test", "pub", "2026-03-04T05:06:07Z", null, "mailto:r@dmarc.test", "o@example.test")));

    [Fact]
    public void DmarcCreatedRecordKeepsItsJson() =>
        Assert.Equal("""{"domain":"example.test","public_token":"pub","created_at":"2026-03-04T05:06:07Z","private_token":"priv","reporting_uri":"mailto:r@dmarc.test","email":"o@example.test"}""",
            Json(new DmarcRecord("example.test", "pub", "2026-03-04T05:06:07Z", "priv", "mailto:r@dmarc.test", "o@example.test")));

    [Fact]
    public void OpenEventKeepsItsJson() =>
        Assert.Equal(
            """{"RecordType":"Open","FirstOpen":true,"Client":{"Name":"c","Company":"cc","Family":"cf"},"OS":{"Name":"o","Company":"oc","Family":"of"},"Platform":"Desktop","UserAgent":"ua","ReadSeconds":7,"Geo":{"CountryISOCode":"NL","Country":null,"RegionISOCode":null,"Region":null,"City":"Leiden","Zip":null,"Coords":null,"IP":"127.0.0.9"},"MessageID":"0b8b1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b","MessageStream":"outbound","ReceivedAt":"2026-03-04T05:06:07+00:00","Tag":"t","Recipient":"r@example.test","Machine":true}""",
            Json(new OpenEventResponse
            {
                FirstOpen = true, Client = new("c", "cc", "cf"), OS = new("o", "oc", "of"), Platform = "Desktop", UserAgent = "ua", ReadSeconds = 7,
                Geo = new GeoInfo { CountryISOCode = "NL", City = "Leiden", IP = "127.0.0.9" }, MessageID = Id, MessageStream = "outbound",
                ReceivedAt = At, Tag = "t", Recipient = "r@example.test", Machine = true,
            }));

    [Fact]
    public void ClickEventKeepsItsJson() =>
        Assert.Equal(
            """{"RecordType":"Click","ClickLocation":"Text","Client":{"Name":"c","Company":"cc","Family":"cf"},"OS":{"Name":"o","Company":"oc","Family":"of"},"Platform":"Mobile","UserAgent":"ua","OriginalLink":"https://example.test/a","Geo":{"CountryISOCode":null,"Country":null,"RegionISOCode":null,"Region":null,"City":null,"Zip":null,"Coords":null,"IP":null},"MessageID":"0b8b1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b","MessageStream":"outbound","ReceivedAt":"2026-03-04T05:06:07+00:00","Tag":"t","Recipient":"r@example.test","Machine":false}""",
            Json(new ClickEventResponse
            {
                ClickLocation = "Text", Client = new("c", "cc", "cf"), OS = new("o", "oc", "of"), Platform = "Mobile", UserAgent = "ua",
                OriginalLink = "https://example.test/a", MessageID = Id, MessageStream = "outbound", ReceivedAt = At, Tag = "t", Recipient = "r@example.test",
            }));

    private static readonly InboundFullAddress From = new("a@example.test", "A", "");
    private static readonly InboundFullAddress To = new("b+h@example.test", "B", "h");

    [Fact]
    public void InboundPayloadKeepsItsJson() =>
        Assert.Equal(
            """{"FromName":"A","MessageStream":"inbound","From":"a@example.test","FromFull":{"Email":"a@example.test","Name":"A","MailboxHash":""},"To":"b+h@example.test","ToFull":[{"Email":"b+h@example.test","Name":"B","MailboxHash":"h"}],"Cc":"c@example.test","CcFull":[],"Bcc":"","BccFull":[],"OriginalRecipient":"b+h@example.test","ReplyTo":"r@example.test","Subject":"S","MessageID":"0b8b1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b","Date":"Wed, 4 Mar 2026 05:06:07 +0000","MailboxHash":"h","TextBody":"text","HtmlBody":"<p>html</p>","StrippedTextReply":"reply","Tag":"t","Headers":[{"Name":"X-A","Value":"1"}],"Attachments":[{"Name":"a.txt","Content":"YQ==","ContentType":"text/plain","ContentLength":1,"ContentID":""}],"RawEmail":"raw"}""",
            Json(new InboundPayload
            {
                FromName = "A", From = "a@example.test", FromFull = From, To = "b+h@example.test", ToFull = [To], Cc = "c@example.test",
                OriginalRecipient = "b+h@example.test", ReplyTo = "r@example.test", Subject = "S", MessageID = Id, Date = "Wed, 4 Mar 2026 05:06:07 +0000",
                MailboxHash = "h", TextBody = "text", HtmlBody = "<p>html</p>", StrippedTextReply = "reply", Tag = "t", Headers = [new("X-A", "1")],
                Attachments = [new("a.txt", "YQ==", "text/plain", 1, "")], RawEmail = "raw",
            }));

    [Fact]
    public void InboundPayloadWithoutRawEmailLeavesItOut() =>
        Assert.DoesNotContain("RawEmail", Json(new InboundPayload()), StringComparison.Ordinal);

    private static InboundMessageResponse Summary() => new()
    {
        From = "a@example.test", FromName = "A", FromFull = From, To = "b+h@example.test", ToFull = [To], ReplyTo = "r@example.test",
        OriginalRecipient = "b+h@example.test", Subject = "S", Date = "Wed, 4 Mar 2026 05:06:07 +0000", MailboxHash = "h", Tag = "t", MessageID = Id,
        Status = "Processed", Attachments = [new("a.txt", "text/plain", "", 1)],
    };

    private const string SummaryJson =
        """
        "From":"a@example.test","FromName":"A","FromFull":{"Email":"a@example.test","Name":"A","MailboxHash":""},"To":"b+h@example.test","ToFull":[{"Email":"b+h@example.test","Name":"B","MailboxHash":"h"}],"Cc":"","CcFull":[],"Bcc":"","BccFull":[],"ReplyTo":"r@example.test","OriginalRecipient":"b+h@example.test","Subject":"S","Date":"Wed, 4 Mar 2026 05:06:07 +0000","MailboxHash":"h","Tag":"t","MessageID":"0b8b1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b","Status":"Processed","Attachments":[{"Name":"a.txt","ContentType":"text/plain","ContentID":"","ContentLength":1}],"MessageStream":"inbound"
        """;

    [Fact]
    public void InboundMessageSummaryKeepsItsJson() =>
        Assert.Equal("{" + SummaryJson + "}", Json(Summary()));

    [Fact]
    public void InboundMessageDetailsKeepItsJson() =>
        Assert.Equal(
            """{"TextBody":"text","HtmlBody":"<p>html</p>","StrippedTextReply":"reply","Headers":[{"Name":"X-A","Value":"1"}],"BlockedReason":"","MessageEvents":[],""" + SummaryJson + "}",
            Json(new InboundMessageDetails(Summary()) { TextBody = "text", HtmlBody = "<p>html</p>", StrippedTextReply = "reply", Headers = [new("X-A", "1")] }));
}

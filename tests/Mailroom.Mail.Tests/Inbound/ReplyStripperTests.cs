using Mailroom.Mail.Inbound;

namespace Mailroom.Mail.Tests.Inbound;

/// <summary>
/// StrippedTextReply for the quoting styles of Gmail, Outlook, Apple Mail and Thunderbird, in several languages,
/// written from each client's attribution or header format.
/// </summary>
public sealed class ReplyStripperTests
{
    [Theory]
    // Gmail (web), English, attribution wrapped over two lines as Gmail does for long names.
    [InlineData("Thanks, that works.\n\nOn Thu, Dec 3, 2026 at 10:15 AM Support Team <\nsupport@shop.example> wrote:\n\n> Please try again.\n> Regards\n")]
    // Gmail, German and French.
    [InlineData("Thanks, that works.\n\nAm Do., 3. Dez. 2026 um 10:15 Uhr schrieb Support Team <support@shop.example>:\n\n> Bitte erneut versuchen.\n")]
    [InlineData("Thanks, that works.\n\nLe jeu. 3 déc. 2026 à 10:15, Support Team <support@shop.example> a écrit :\n\n> Merci de réessayer.\n")]
    // Gmail, Spanish, Dutch, Italian, Portuguese.
    [InlineData("Thanks, that works.\n\nEl jue, 3 dic 2026 a las 10:15, Support Team (<support@shop.example>) escribió:\n> Hola\n")]
    [InlineData("Thanks, that works.\n\nOp do 3 dec. 2026 om 10:15 schreef Support Team <support@shop.example>:\n> Hallo\n")]
    [InlineData("Thanks, that works.\n\nIl giorno gio 3 dic 2026 alle ore 10:15 Support Team <support@shop.example> ha scritto:\n> Ciao\n")]
    [InlineData("Thanks, that works.\n\nEm qui., 3 de dez. de 2026 às 10:15, Support Team <support@shop.example> escreveu:\n> Olá\n")]
    // Apple Mail, English and German.
    [InlineData("Thanks, that works.\n\nSent from my iPhone\n\n> On 3 Dec 2026, at 10:15, Support Team <support@shop.example> wrote:\n> \n> Please try again.\n")]
    [InlineData("Thanks, that works.\n\nOn 3 Dec 2026, at 10:15, Support Team <support@shop.example> wrote:\n\n> Please try again.\n")]
    [InlineData("Thanks, that works.\n\n> Am 03.12.2026 um 10:15 schrieb Support Team <support@shop.example>:\n> \n> Bitte erneut.\n")]
    // Thunderbird, English (date first) and German, and its forward separator.
    [InlineData("Thanks, that works.\n\nOn 12/3/26 10:15 AM, Support Team wrote:\n> Please try again.\n")]
    [InlineData("Thanks, that works.\n\nAm 03.12.26 um 10:15 schrieb Support Team:\n> Bitte erneut.\n")]
    [InlineData("Thanks, that works.\n\n-------- Original Message --------\nSubject: Re: Order\nDate: Thu, 3 Dec 2026 10:15:00 +0000\n")]
    // Outlook: the separator line, translated, and the header block (desktop and new Outlook), in several languages.
    [InlineData("Thanks, that works.\n\n-----Original Message-----\nFrom: Support Team [mailto:support@shop.example]\nSent: Thursday, December 3, 2026 10:15 AM\n")]
    [InlineData("Thanks, that works.\n\n-----Ursprüngliche Nachricht-----\nVon: Support Team\nGesendet: Donnerstag, 3. Dezember 2026 10:15\n")]
    [InlineData("Thanks, that works.\n\n________________________________\nFrom: Support Team <support@shop.example>\nSent: Thursday, December 3, 2026 10:15 AM\nTo: Jane\nSubject: Order\n")]
    [InlineData("Thanks, that works.\n\nFrom: Support Team <support@shop.example>\nSent: Thursday, December 3, 2026 10:15 AM\nTo: Jane <jane@x.example>\nSubject: RE: Order\n\nPlease try again.\n")]
    [InlineData("Thanks, that works.\n\nVon: Support Team <support@shop.example>\nGesendet: Donnerstag, 3. Dezember 2026 10:15\nAn: Jane\nBetreff: Bestellung\n")]
    [InlineData("Thanks, that works.\n\nDe : Support Team <support@shop.example>\nEnvoyé : jeudi 3 décembre 2026 10:15\nÀ : Jane\nObjet : Commande\n")]
    [InlineData("Thanks, that works.\n\nDe: Support Team <support@shop.example>\nEnviado: jueves, 3 de diciembre de 2026 10:15\nPara: Jane\nAsunto: Pedido\n")]
    [InlineData("Thanks, that works.\n\n-----Message d'origine-----\nDe : Support\n")]
    // Plain quoting with no attribution; Polish and Russian attributions.
    [InlineData("Thanks, that works.\n\n> Please try again.\n> Regards\n")]
    [InlineData("Thanks, that works.\n\nW dniu 3.12.2026 o 10:15, Support Team napisał(a):\n> Proszę spróbować\n")]
    [InlineData("Thanks, that works.\n\n3 декабря 2026 г., в 10:15, Support Team <support@shop.example> написал(а):\n> Попробуйте\n")]
    public void CutsTheQuotedHistory(string text)
    {
        var expected = text.StartsWith("Thanks, that works.\n\nSent from my iPhone") ? "Thanks, that works.\n\nSent from my iPhone" : "Thanks, that works.";
        Assert.Equal(expected, ReplyStripper.Strip(text));
    }

    [Fact]
    public void KeepsTextThatOnlyMentionsWordsOfAnAttribution()
    {
        const string text = "On Monday I wrote to you about the order.\nFrom: the warehouse team\nIt has shipped.";
        Assert.Equal(text, ReplyStripper.Strip(text));
    }

    [Fact]
    public void KeepsInterleavedQuotesAboveTheReply()
    {
        const string text = "> Can you ship today?\nYes, this afternoon.\n\nOn Thu, Dec 3, 2026 at 10:15 AM Shop <s@shop.example> wrote:\n> Can you ship today?\n";
        Assert.Equal("> Can you ship today?\nYes, this afternoon.", ReplyStripper.Strip(text));
    }

    [Fact]
    public void CrLfTextIsHandled() =>
        Assert.Equal("Yes.", ReplyStripper.Strip("Yes.\r\n\r\nOn Thu, Dec 3, 2026 at 10:15 AM Shop <s@shop.example> wrote:\r\n> q\r\n"));
}

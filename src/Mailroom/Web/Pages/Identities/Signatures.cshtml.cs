using Mailroom.Core.Identities;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Identities;

/// <summary>Sender signatures are the account's: owners and admins only; a member gets 404.</summary>
public sealed class SignaturesModel(SenderSignatureService signatures) : AdminPageModel
{
    public const int PageSize = 50;
    [BindProperty(SupportsGet = true)] public int Offset { get; set; }
    public SignatureList List { get; private set; } = new(0, []);

    public async Task<IActionResult> OnGetAsync()
    {
        Offset = Math.Max(0, Offset);
        List = await signatures.ListAsync(AccountId, new Paging(PageSize, Offset), HttpContext.RequestAborted);
        return Page();
    }

    public async Task<IActionResult> OnPostAddAsync(string? fromEmail, string? name, string? replyTo, string? note)
    {
        return await ChangeAsync(async () =>
        {
            var s = await signatures.CreateAsync(AccountId, new SignatureRequest
            {
                FromEmail = fromEmail, Name = name, ReplyToEmail = string.IsNullOrWhiteSpace(replyTo) ? null : replyTo,
                ConfirmationPersonalNote = string.IsNullOrWhiteSpace(note) ? null : note,
            }, HttpContext.RequestAborted);
            return $"Signature {s.EmailAddress} added: a confirmation email is on its way to it.";
        }, "/app/signatures");
    }

    public async Task<IActionResult> OnPostResendAsync(int signatureId)
    {
        return await ChangeAsync(async () => $"Confirmation email re-sent to {await signatures.ResendAsync(AccountId, signatureId, HttpContext.RequestAborted)}.", "/app/signatures");
    }

    public async Task<IActionResult> OnPostDeleteAsync(int signatureId)
    {
        return await ChangeAsync(() => signatures.DeleteAsync(AccountId, signatureId, HttpContext.RequestAborted), "/app/signatures");
    }
}

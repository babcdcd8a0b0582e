using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.FileProviders;

namespace Mailroom.Web;

/// <summary>
/// The web app: Razor Pages under <c>/app</c> in the API's process and port. It has its own cookie sign-in (path
/// <c>/app</c> only, so the cookie never reaches the API, whose tokens stay the only way in there) and its own
/// security headers; the API's routes and token checks are untouched.
/// </summary>
public static class WebApp
{
    public const string Prefix = "/app";
    public const string StampClaim = "mailroom:stamp";
    public const string AccountClaim = "mailroom:account";

    /// <summary>The app's pages and scripts only from its own origin, no inline script, never framed.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>A message's own HTML (RFC 2046 text/html part), framed by the message page: a unique opaque origin
    /// (sandbox without allow-same-origin), no script, no network but inline images.</summary>
    public const string MessageHtmlPolicy =
        "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'";

    public static void AddMailroomWeb(this IServiceCollection services)
    {
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/Web/Pages";
            o.Conventions.AuthorizeFolder("/"); // every page signed in, but those marked [AllowAnonymous]
            o.Conventions.AllowAnonymousToFolder("/Share"); // the customer view: the link's signed token is the credential
        }).AddApplicationPart(typeof(WebApp).Assembly); // found also when another assembly is the entry (an in-process test host)
        services.AddHttpContextAccessor();
        services.AddScoped<WebUserService>();
        services.AddScoped<UserInvitations>();
        services.AddScoped<TwoFactorService>();
        services.AddScoped<ShareLinkService>();
        services.AddSingleton<SignInThrottle>();
        services.AddScoped<TemplatePreviews>();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "mailroom.af";
            o.Cookie.Path = Prefix;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.FormFieldName = "__af";
            o.SuppressXFrameOptionsHeader = true; // the app's own header below says DENY (antiforgery's would say SAMEORIGIN)
        });
        services.Configure<Microsoft.AspNetCore.Mvc.CookieTempDataProviderOptions>(o =>
        {
            o.Cookie.Name = "mailroom.flash";
            o.Cookie.Path = Prefix;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            o.Cookie.Name = "mailroom.session";
            o.Cookie.Path = Prefix;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax; // Lax: a link from an email (a signature confirmation) still arrives signed in
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // Secure whenever the request came over HTTPS
            o.LoginPath = Prefix + "/sign-in";
            o.LogoutPath = Prefix + "/sign-out";
            o.AccessDeniedPath = Prefix + "/sign-in";
            o.ExpireTimeSpan = TimeSpan.FromHours(12);
            o.SlidingExpiration = true;
            o.Events.OnValidatePrincipal = ValidateStampAsync;
        });
        services.AddAuthorization();
    }

    /// <summary>Every request checks the cookie's security stamp against the user's: a password change or "sign out
    /// everywhere" (a new stamp) or a deleted user ends the session at once, on every device.</summary>
    private static async Task ValidateStampAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        var users = context.HttpContext.RequestServices.GetRequiredService<WebUserService>();
        var id = int.TryParse(principal?.FindFirstValue(ClaimTypes.NameIdentifier), out var n) ? n : 0;
        var user = id == 0 ? null : await users.FindAsync(id, context.HttpContext.RequestAborted);
        if (user is null || user.SecurityStamp != principal!.FindFirstValue(StampClaim) || user.PasswordHash is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return;
        }
        context.HttpContext.Items[typeof(Mailroom.Core.Accounts.WebUser)] = user;
    }

    public static ClaimsPrincipal Principal(Mailroom.Core.Accounts.WebUser user) =>
        new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new Claim(ClaimTypes.Name, user.Email),
            new Claim(AccountClaim, user.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new Claim(StampClaim, user.SecurityStamp),
        ], CookieAuthenticationDefaults.AuthenticationScheme));

    /// <summary>Security headers on every page of the app, then the app's static files, sign-in and pages.</summary>
    public static void UseMailroomWeb(this WebApplication app)
    {
        app.UseWhen(http => http.Request.Path.StartsWithSegments(Prefix), web =>
        {
            web.Use(async (http, next) =>
            {
                http.Response.OnStarting(() =>
                {
                    var h = http.Response.Headers;
                    if (!h.ContainsKey("Content-Security-Policy"))
                        h["Content-Security-Policy"] = ContentSecurityPolicy;
                    if (!h.ContainsKey("X-Frame-Options"))
                        h["X-Frame-Options"] = "DENY";
                    if (!h.ContainsKey("Referrer-Policy")) // the customer view says no-referrer: its URL holds the link's token
                        h["Referrer-Policy"] = "same-origin";
                    h["X-Content-Type-Options"] = "nosniff";
                    h["Cross-Origin-Opener-Policy"] = "same-origin";
                    if (!h.ContainsKey("Cache-Control"))
                        h["Cache-Control"] = "no-store";
                    return Task.CompletedTask;
                });
                await next(http);
            });
            var files = Path.Combine(AppContext.BaseDirectory, "Web", "wwwroot");
            if (Directory.Exists(files))
                web.UseStaticFiles(new StaticFileOptions
                {
                    FileProvider = new PhysicalFileProvider(files),
                    RequestPath = Prefix + "/static",
                    OnPrepareResponse = f => f.Context.Response.Headers.CacheControl = "public, max-age=3600",
                });
        });
        app.UseAuthentication();
        app.UseAuthorization();
        // The pages are not API operations: kept out of the OpenAPI document.
        app.MapGet(Prefix, () => Results.Redirect(Prefix + "/servers")).ExcludeFromDescription();
        app.MapRazorPages().ExcludeFromDescription();
    }
}

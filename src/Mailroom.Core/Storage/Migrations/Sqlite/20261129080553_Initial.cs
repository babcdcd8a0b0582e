using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "accounts",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Email = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    TokenHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_accounts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "inbound_reports",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ReceivedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    MailFrom = table.Column<string>(type: "TEXT", nullable: false),
                    Recipients = table.Column<string>(type: "TEXT", nullable: false),
                    Raw = table.Column<byte[]>(type: "BLOB", nullable: false),
                    State = table.Column<int>(type: "INTEGER", nullable: false),
                    Note = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_inbound_reports", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "outbound_messages",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    AccountId = table.Column<int>(type: "INTEGER", nullable: true),
                    ServerId = table.Column<int>(type: "INTEGER", nullable: true),
                    Stream = table.Column<string>(type: "TEXT", nullable: false),
                    From = table.Column<string>(type: "TEXT", nullable: false),
                    Subject = table.Column<string>(type: "TEXT", nullable: false),
                    Tag = table.Column<string>(type: "TEXT", nullable: false),
                    ToJson = table.Column<string>(type: "TEXT", nullable: false),
                    CcJson = table.Column<string>(type: "TEXT", nullable: false),
                    BccJson = table.Column<string>(type: "TEXT", nullable: false),
                    MetadataJson = table.Column<string>(type: "TEXT", nullable: false),
                    AttachmentNamesJson = table.Column<string>(type: "TEXT", nullable: false),
                    TrackOpens = table.Column<bool>(type: "INTEGER", nullable: false),
                    TrackLinks = table.Column<string>(type: "TEXT", nullable: false),
                    Sandboxed = table.Column<bool>(type: "INTEGER", nullable: false),
                    ReturnPathDomain = table.Column<string>(type: "TEXT", nullable: false),
                    Mime = table.Column<byte[]>(type: "BLOB", nullable: true),
                    RecipientsJson = table.Column<string>(type: "TEXT", nullable: false),
                    Stage = table.Column<int>(type: "INTEGER", nullable: false),
                    StageDetail = table.Column<string>(type: "TEXT", nullable: false),
                    TextBody = table.Column<string>(type: "TEXT", nullable: false),
                    HtmlBody = table.Column<string>(type: "TEXT", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    ReceivedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbound_messages", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "domains",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AccountId = table.Column<int>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    ReturnPathDomain = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    ReturnPathVerified = table.Column<bool>(type: "INTEGER", nullable: false),
                    ReturnPathCheckedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ReturnPathProblem = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    ReturnPathLostAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    DkimVerified = table.Column<bool>(type: "INTEGER", nullable: false),
                    DkimCheckedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    DkimProblem = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    DkimLostAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    SpfVerified = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_domains", x => x.Id);
                    table.ForeignKey(
                        name: "FK_domains_accounts_AccountId",
                        column: x => x.AccountId,
                        principalTable: "accounts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "sender_signatures",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AccountId = table.Column<int>(type: "INTEGER", nullable: false),
                    EmailAddress = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    NormalizedEmail = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Domain = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    ReplyToEmail = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    ReturnPathDomain = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    ReturnPathVerified = table.Column<bool>(type: "INTEGER", nullable: false),
                    ReturnPathCheckedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ReturnPathProblem = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    ReturnPathLostAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    SpfVerified = table.Column<bool>(type: "INTEGER", nullable: false),
                    ConfirmationPersonalNote = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false),
                    Confirmed = table.Column<bool>(type: "INTEGER", nullable: false),
                    ConfirmedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sender_signatures", x => x.Id);
                    table.ForeignKey(
                        name: "FK_sender_signatures_accounts_AccountId",
                        column: x => x.AccountId,
                        principalTable: "accounts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "servers",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AccountId = table.Column<int>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    NormalizedName = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Color = table.Column<string>(type: "TEXT", nullable: false),
                    DeliveryType = table.Column<int>(type: "INTEGER", nullable: false),
                    SmtpApiActivated = table.Column<bool>(type: "INTEGER", nullable: false),
                    RawEmailEnabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    TrackOpens = table.Column<bool>(type: "INTEGER", nullable: false),
                    TrackLinks = table.Column<int>(type: "INTEGER", nullable: false),
                    InboundHash = table.Column<string>(type: "TEXT", nullable: false),
                    InboundDomain = table.Column<string>(type: "TEXT", nullable: true),
                    InboundHookUrl = table.Column<string>(type: "TEXT", nullable: false),
                    BounceHookUrl = table.Column<string>(type: "TEXT", nullable: false),
                    OpenHookUrl = table.Column<string>(type: "TEXT", nullable: false),
                    DeliveryHookUrl = table.Column<string>(type: "TEXT", nullable: false),
                    ClickHookUrl = table.Column<string>(type: "TEXT", nullable: false),
                    PostFirstOpenOnly = table.Column<bool>(type: "INTEGER", nullable: false),
                    InboundSpamThreshold = table.Column<int>(type: "INTEGER", nullable: false),
                    IncludeBounceContentInHook = table.Column<bool>(type: "INTEGER", nullable: false),
                    EnableSmtpApiErrorHooks = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_servers", x => x.Id);
                    table.ForeignKey(
                        name: "FK_servers_accounts_AccountId",
                        column: x => x.AccountId,
                        principalTable: "accounts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "deliveries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    MessageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Recipient = table.Column<string>(type: "TEXT", nullable: false),
                    RecipientIndex = table.Column<int>(type: "INTEGER", nullable: false),
                    Domain = table.Column<string>(type: "TEXT", nullable: false),
                    State = table.Column<int>(type: "INTEGER", nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    NextAttemptAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LeaseUntil = table.Column<long>(type: "INTEGER", nullable: false),
                    LeaseOwner = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastResult = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_deliveries", x => x.Id);
                    table.ForeignKey(
                        name: "FK_deliveries_outbound_messages_MessageId",
                        column: x => x.MessageId,
                        principalTable: "outbound_messages",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "message_events",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    MessageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ServerId = table.Column<int>(type: "INTEGER", nullable: true),
                    Recipient = table.Column<string>(type: "TEXT", nullable: false),
                    Type = table.Column<int>(type: "INTEGER", nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false),
                    DetailsJson = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_message_events", x => x.Id);
                    table.ForeignKey(
                        name: "FK_message_events_outbound_messages_MessageId",
                        column: x => x.MessageId,
                        principalTable: "outbound_messages",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "dkim_keys",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    DomainId = table.Column<int>(type: "INTEGER", nullable: true),
                    Selector = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    PublicKey = table.Column<string>(type: "TEXT", nullable: false),
                    ProtectedPrivateKey = table.Column<string>(type: "TEXT", nullable: false),
                    State = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ActivatedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    RevokedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dkim_keys", x => x.Id);
                    table.ForeignKey(
                        name: "FK_dkim_keys_domains_DomainId",
                        column: x => x.DomainId,
                        principalTable: "domains",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "sender_confirmations",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    SignatureId = table.Column<int>(type: "INTEGER", nullable: false),
                    TokenHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UsedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    SupersededAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sender_confirmations", x => x.Id);
                    table.ForeignKey(
                        name: "FK_sender_confirmations_sender_signatures_SignatureId",
                        column: x => x.SignatureId,
                        principalTable: "sender_signatures",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "bounces",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ServerId = table.Column<int>(type: "INTEGER", nullable: false),
                    Stream = table.Column<string>(type: "TEXT", maxLength: 30, nullable: false),
                    MessageId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Type = table.Column<int>(type: "INTEGER", nullable: false),
                    Email = table.Column<string>(type: "TEXT", maxLength: 320, nullable: false),
                    From = table.Column<string>(type: "TEXT", nullable: false),
                    Subject = table.Column<string>(type: "TEXT", nullable: false),
                    Tag = table.Column<string>(type: "TEXT", nullable: false),
                    Details = table.Column<string>(type: "TEXT", nullable: false),
                    BouncedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Inactive = table.Column<bool>(type: "INTEGER", nullable: false),
                    CanActivate = table.Column<bool>(type: "INTEGER", nullable: false),
                    Content = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_bounces", x => x.Id);
                    table.ForeignKey(
                        name: "FK_bounces_servers_ServerId",
                        column: x => x.ServerId,
                        principalTable: "servers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "message_streams",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ServerId = table.Column<int>(type: "INTEGER", nullable: false),
                    StreamId = table.Column<string>(type: "TEXT", maxLength: 30, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    Type = table.Column<int>(type: "INTEGER", nullable: false),
                    UnsubscribeHandling = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ArchivedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ExpectedPurgeDate = table.Column<DateTime>(type: "TEXT", nullable: true),
                    PausedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    PauseReason = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_message_streams", x => x.Id);
                    table.ForeignKey(
                        name: "FK_message_streams_servers_ServerId",
                        column: x => x.ServerId,
                        principalTable: "servers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "server_tokens",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ServerId = table.Column<int>(type: "INTEGER", nullable: false),
                    TokenHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ProtectedToken = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_server_tokens", x => x.Id);
                    table.ForeignKey(
                        name: "FK_server_tokens_servers_ServerId",
                        column: x => x.ServerId,
                        principalTable: "servers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "smtp_tokens",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ServerId = table.Column<int>(type: "INTEGER", nullable: false),
                    StreamId = table.Column<string>(type: "TEXT", maxLength: 30, nullable: false),
                    AccessKey = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    SecretHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_smtp_tokens", x => x.Id);
                    table.ForeignKey(
                        name: "FK_smtp_tokens_servers_ServerId",
                        column: x => x.ServerId,
                        principalTable: "servers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "suppressions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ServerId = table.Column<int>(type: "INTEGER", nullable: false),
                    Stream = table.Column<string>(type: "TEXT", maxLength: 30, nullable: false),
                    Email = table.Column<string>(type: "TEXT", maxLength: 320, nullable: false),
                    Reason = table.Column<int>(type: "INTEGER", nullable: false),
                    Origin = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_suppressions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_suppressions_servers_ServerId",
                        column: x => x.ServerId,
                        principalTable: "servers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_accounts_TokenHash",
                table: "accounts",
                column: "TokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_bounces_MessageId",
                table: "bounces",
                column: "MessageId");

            migrationBuilder.CreateIndex(
                name: "IX_bounces_ServerId_Email",
                table: "bounces",
                columns: new[] { "ServerId", "Email" });

            migrationBuilder.CreateIndex(
                name: "IX_bounces_ServerId_Stream_BouncedAt",
                table: "bounces",
                columns: new[] { "ServerId", "Stream", "BouncedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_deliveries_MessageId",
                table: "deliveries",
                column: "MessageId");

            migrationBuilder.CreateIndex(
                name: "IX_deliveries_State_NextAttemptAt",
                table: "deliveries",
                columns: new[] { "State", "NextAttemptAt" });

            migrationBuilder.CreateIndex(
                name: "IX_dkim_keys_DomainId_State",
                table: "dkim_keys",
                columns: new[] { "DomainId", "State" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_domains_AccountId_Name",
                table: "domains",
                columns: new[] { "AccountId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_inbound_reports_State_ReceivedAt",
                table: "inbound_reports",
                columns: new[] { "State", "ReceivedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_message_events_MessageId_At",
                table: "message_events",
                columns: new[] { "MessageId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_message_streams_ExpectedPurgeDate",
                table: "message_streams",
                column: "ExpectedPurgeDate");

            migrationBuilder.CreateIndex(
                name: "IX_message_streams_ServerId_StreamId",
                table: "message_streams",
                columns: new[] { "ServerId", "StreamId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_outbound_messages_ReceivedAt",
                table: "outbound_messages",
                column: "ReceivedAt");

            migrationBuilder.CreateIndex(
                name: "IX_outbound_messages_ServerId_Stream_ReceivedAt",
                table: "outbound_messages",
                columns: new[] { "ServerId", "Stream", "ReceivedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_sender_confirmations_SignatureId",
                table: "sender_confirmations",
                column: "SignatureId");

            migrationBuilder.CreateIndex(
                name: "IX_sender_confirmations_TokenHash",
                table: "sender_confirmations",
                column: "TokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_sender_signatures_AccountId_NormalizedEmail",
                table: "sender_signatures",
                columns: new[] { "AccountId", "NormalizedEmail" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_server_tokens_ServerId",
                table: "server_tokens",
                column: "ServerId");

            migrationBuilder.CreateIndex(
                name: "IX_server_tokens_TokenHash",
                table: "server_tokens",
                column: "TokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_servers_AccountId_NormalizedName",
                table: "servers",
                columns: new[] { "AccountId", "NormalizedName" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_servers_InboundDomain",
                table: "servers",
                column: "InboundDomain",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_servers_InboundHash",
                table: "servers",
                column: "InboundHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_smtp_tokens_AccessKey",
                table: "smtp_tokens",
                column: "AccessKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_smtp_tokens_ServerId_StreamId",
                table: "smtp_tokens",
                columns: new[] { "ServerId", "StreamId" });

            migrationBuilder.CreateIndex(
                name: "IX_suppressions_ServerId_Stream_Email",
                table: "suppressions",
                columns: new[] { "ServerId", "Stream", "Email" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "bounces");

            migrationBuilder.DropTable(
                name: "deliveries");

            migrationBuilder.DropTable(
                name: "dkim_keys");

            migrationBuilder.DropTable(
                name: "inbound_reports");

            migrationBuilder.DropTable(
                name: "message_events");

            migrationBuilder.DropTable(
                name: "message_streams");

            migrationBuilder.DropTable(
                name: "sender_confirmations");

            migrationBuilder.DropTable(
                name: "server_tokens");

            migrationBuilder.DropTable(
                name: "smtp_tokens");

            migrationBuilder.DropTable(
                name: "suppressions");

            migrationBuilder.DropTable(
                name: "domains");

            migrationBuilder.DropTable(
                name: "outbound_messages");

            migrationBuilder.DropTable(
                name: "sender_signatures");

            migrationBuilder.DropTable(
                name: "servers");

            migrationBuilder.DropTable(
                name: "accounts");
        }
    }
}

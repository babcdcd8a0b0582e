using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SharedTemplatePreviews : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "template_previews",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    KeyHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    WebUserId = table.Column<int>(type: "INTEGER", nullable: false),
                    ServerId = table.Column<int>(type: "INTEGER", nullable: false),
                    Html = table.Column<string>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_template_previews", x => x.Id);
                    table.ForeignKey(
                        name: "FK_template_previews_servers_ServerId",
                        column: x => x.ServerId,
                        principalTable: "servers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_template_previews_web_users_WebUserId",
                        column: x => x.WebUserId,
                        principalTable: "web_users",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_template_previews_ExpiresAt",
                table: "template_previews",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_template_previews_KeyHash",
                table: "template_previews",
                column: "KeyHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_template_previews_ServerId",
                table: "template_previews",
                column: "ServerId");

            migrationBuilder.CreateIndex(
                name: "IX_template_previews_WebUserId_Id",
                table: "template_previews",
                columns: new[] { "WebUserId", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "template_previews");
        }
    }
}

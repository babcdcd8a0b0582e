using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DmarcAccountMonitoring : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "AccountId",
                table: "dmarc_domains",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "SendingDomainId",
                table: "dmarc_domains",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_dmarc_domains_AccountId",
                table: "dmarc_domains",
                column: "AccountId");

            migrationBuilder.CreateIndex(
                name: "IX_dmarc_domains_SendingDomainId",
                table: "dmarc_domains",
                column: "SendingDomainId",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_dmarc_domains_accounts_AccountId",
                table: "dmarc_domains",
                column: "AccountId",
                principalTable: "accounts",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_dmarc_domains_domains_SendingDomainId",
                table: "dmarc_domains",
                column: "SendingDomainId",
                principalTable: "domains",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_dmarc_domains_accounts_AccountId",
                table: "dmarc_domains");

            migrationBuilder.DropForeignKey(
                name: "FK_dmarc_domains_domains_SendingDomainId",
                table: "dmarc_domains");

            migrationBuilder.DropIndex(
                name: "IX_dmarc_domains_AccountId",
                table: "dmarc_domains");

            migrationBuilder.DropIndex(
                name: "IX_dmarc_domains_SendingDomainId",
                table: "dmarc_domains");

            migrationBuilder.DropColumn(
                name: "AccountId",
                table: "dmarc_domains");

            migrationBuilder.DropColumn(
                name: "SendingDomainId",
                table: "dmarc_domains");
        }
    }
}

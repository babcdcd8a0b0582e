using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class MessageSearchIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_suppressions_ServerId_Email",
                table: "suppressions",
                columns: new[] { "ServerId", "Email" });

            migrationBuilder.CreateIndex(
                name: "IX_bounces_ServerId_Type",
                table: "bounces",
                columns: new[] { "ServerId", "Type" });

            // The Messages API's substring filters (recipient, fromemail, subject; MessageLog.Candidates): an FTS5 table
            // with the trigram tokenizer over the three columns, external content (the messages table holds the text,
            // the index holds trigrams only), kept in step by triggers in the transaction of each insert, update and
            // delete, so a purged message leaves the index with its row. Its rowid is the message row's rowid.
            // Note: a later migration that rebuilds outbound_messages (SQLite's table rebuild for a column change)
            // drops these triggers and renumbers the rows: it must create them again and run 'rebuild'.
            migrationBuilder.Sql("""
                CREATE VIRTUAL TABLE outbound_message_search USING fts5(
                    "RecipientsJson", "From", "Subject",
                    content='outbound_messages', content_rowid='rowid', columnsize=0, tokenize='trigram');
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER outbound_message_search_insert AFTER INSERT ON outbound_messages BEGIN
                    INSERT INTO outbound_message_search(rowid, "RecipientsJson", "From", "Subject")
                    VALUES (new.rowid, new."RecipientsJson", new."From", new."Subject");
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER outbound_message_search_delete AFTER DELETE ON outbound_messages BEGIN
                    INSERT INTO outbound_message_search(outbound_message_search, rowid, "RecipientsJson", "From", "Subject")
                    VALUES ('delete', old.rowid, old."RecipientsJson", old."From", old."Subject");
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER outbound_message_search_update AFTER UPDATE OF "RecipientsJson", "From", "Subject" ON outbound_messages BEGIN
                    INSERT INTO outbound_message_search(outbound_message_search, rowid, "RecipientsJson", "From", "Subject")
                    VALUES ('delete', old.rowid, old."RecipientsJson", old."From", old."Subject");
                    INSERT INTO outbound_message_search(rowid, "RecipientsJson", "From", "Subject")
                    VALUES (new.rowid, new."RecipientsJson", new."From", new."Subject");
                END;
                """);
            // Messages stored before this migration.
            migrationBuilder.Sql("INSERT INTO outbound_message_search(outbound_message_search) VALUES ('rebuild');");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER outbound_message_search_update;");
            migrationBuilder.Sql("DROP TRIGGER outbound_message_search_delete;");
            migrationBuilder.Sql("DROP TRIGGER outbound_message_search_insert;");
            migrationBuilder.Sql("DROP TABLE outbound_message_search;");

            migrationBuilder.DropIndex(
                name: "IX_suppressions_ServerId_Email",
                table: "suppressions");

            migrationBuilder.DropIndex(
                name: "IX_bounces_ServerId_Type",
                table: "bounces");
        }
    }
}

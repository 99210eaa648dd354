-- The web chat: each chat is a contact with channel `webchat`, its transcript the chat's messages, numbered
-- per chat from 1 (the order the help-seeker and the advocate saw them in). Message texts are ciphertext.

CREATE TABLE chats (
    id            TEXT PRIMARY KEY,
    hotline_id    TEXT NOT NULL REFERENCES hotlines(id),
    contact_id    TEXT NOT NULL REFERENCES contacts(id),
    language      TEXT NOT NULL,      -- ISO 639-1 chosen before the chat (en, es)
    safe_to_chat  TEXT NOT NULL,      -- yes, no, unsure
    state         TEXT NOT NULL,      -- waiting, active, ended
    advocate_id   TEXT REFERENCES users(id),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    ended_at      BIGINT
);
CREATE INDEX chats_queue ON chats (hotline_id, state, created_at);

CREATE TABLE chat_messages (
    id          TEXT PRIMARY KEY,
    hotline_id  TEXT NOT NULL REFERENCES hotlines(id),
    chat_id     TEXT NOT NULL REFERENCES chats(id),
    seq         BIGINT NOT NULL,
    author      TEXT NOT NULL,      -- seeker, advocate, system
    author_id   TEXT REFERENCES users(id),
    body        BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX chat_messages_seq ON chat_messages (chat_id, seq);

-- The SMS line: conversations (each one a contact with channel `sms`), their messages, and the opt-out
-- state of each sender with each hotline number. The sender's number is ciphertext with a keyed blind index
-- for exact lookup; message bodies are ciphertext. (0005 is reserved for the statistics rollups.)

CREATE TABLE sms_conversations (
    id               TEXT PRIMARY KEY,
    hotline_id       TEXT NOT NULL REFERENCES hotlines(id),
    hotline_number   TEXT NOT NULL,      -- the hotline's own number (E.164), not personal data
    sender           BLOB NOT NULL,
    sender_bidx      BLOB NOT NULL,
    status           TEXT NOT NULL,      -- waiting, open, closed
    contact_id       TEXT NOT NULL REFERENCES contacts(id),
    assignee_id      TEXT REFERENCES users(id),
    last_message_at  BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX sms_conversations_sender ON sms_conversations (hotline_id, hotline_number, sender_bidx, status);
CREATE INDEX sms_conversations_queue ON sms_conversations (hotline_id, status, last_message_at);

CREATE TABLE sms_messages (
    id               TEXT PRIMARY KEY,
    hotline_id       TEXT NOT NULL REFERENCES hotlines(id),
    conversation_id  TEXT NOT NULL REFERENCES sms_conversations(id),
    direction        TEXT NOT NULL,      -- inbound, outbound
    kind             TEXT NOT NULL,      -- message, opt_out, opt_in, help, befree, auto_reply, reply
    body             BLOB NOT NULL,
    num_media        BIGINT NOT NULL,
    provider_id      TEXT,               -- Twilio's SM… identifier
    status           TEXT NOT NULL,      -- received, twiml, pending, accepted, queued, sending, sent, delivered, undelivered, failed
    error_code       BIGINT,
    sent_by          TEXT REFERENCES users(id),
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX sms_messages_thread ON sms_messages (conversation_id, created_at);
CREATE UNIQUE INDEX sms_messages_inbound_sid ON sms_messages (provider_id) WHERE direction = 'inbound';
CREATE INDEX sms_messages_provider ON sms_messages (provider_id);

CREATE TABLE sms_opt_states (
    hotline_id        TEXT NOT NULL REFERENCES hotlines(id),
    hotline_number    TEXT NOT NULL,
    sender_bidx       BLOB NOT NULL,
    opted_out         BOOLEAN NOT NULL,
    last_inbound_sid  TEXT,
    changed_at        BIGINT NOT NULL,
    PRIMARY KEY (hotline_id, hotline_number, sender_bidx)
);

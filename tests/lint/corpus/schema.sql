-- The database every corpus case runs against: linted before each case (as the earlier files of a
-- migrations directory are), and created with rows by the server test before each case.
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE DOMAIN plain_label AS text;
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');

CREATE TABLE customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email varchar(100) NOT NULL,
  name text,
  team_id bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint,
  status order_status NOT NULL DEFAULT 'new',
  total numeric(10,2) NOT NULL DEFAULT 0,
  note varchar(50),
  code char(8),
  placed_at timestamp,
  shipped_at timestamptz(3),
  quantity integer,
  weight real,
  ip cidr,
  payload json
);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX orders_note_idx ON orders (note);

CREATE TABLE events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  payload jsonb,
  at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bookings (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  room text NOT NULL,
  during tstzrange NOT NULL
);

CREATE TABLE legacy_imports (
  ref text NOT NULL,
  source text
);

INSERT INTO customers (email, name, team_id)
SELECT 'c' || g || '@example.com', 'customer ' || g, g % 10 FROM generate_series(1, 200) g;
INSERT INTO orders (customer_id, total, note, code, placed_at, shipped_at, quantity, weight, ip,
                    payload)
SELECT g % 200 + 1, g * 1.5, 'note ' || g, 'C' || g, now(), now(), g, g / 3.0, '10.0.0.0/8',
       '{"a": 1}' FROM generate_series(1, 1000) g;
INSERT INTO events (kind, payload) SELECT 'kind' || (g % 5), '{}' FROM generate_series(1, 500) g;
INSERT INTO bookings (room, during)
SELECT 'room' || g, tstzrange(now() + g * interval '1 day', now() + (g + 1) * interval '1 day')
FROM generate_series(1, 100) g;
INSERT INTO legacy_imports SELECT 'ref' || g, 'src' FROM generate_series(1, 100) g;

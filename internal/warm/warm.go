package warm

import (
	_ "codeberg.org/go-pdf/fpdf"
	_ "github.com/fxamacker/cbor/v2"
	_ "github.com/go-chi/chi/v5"
	_ "github.com/go-text/typesetting/shaping"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/lestrrat-go/jwx/v3/jwt"
	_ "github.com/makiuchi-d/gozxing/qrcode"
	_ "github.com/piprate/json-gold/ld"
	_ "github.com/pressly/goose/v3"
	_ "github.com/pressly/goose/v3/lock"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/skip2/go-qrcode"
	_ "golang.org/x/term"
	_ "modernc.org/sqlite"
)

package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/jqlgate/jqlgate"
)

// Decode parses a request body into an Envelope: the __meta__ block,
// typed and validated, and every other top-level key as a field (numbers
// as json.Number). It enforces lim's nesting, field-count and string-length
// bounds while parsing, and rejects invalid UTF-8, duplicate keys and
// anything after the object. Every failure is an EINVALID *jqlgate.Error.
// When only __meta__'s contents are invalid, the partly decoded envelope
// is returned with the error, so the response can still echo the intent.
func Decode(body []byte, lim Limits) (*jqlgate.Envelope, error) {
	lim = lim.withDefaults()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, jqlgate.Invalid("", "The request body is empty; send a JSON object with a __meta__ block.")
	}
	if !utf8.Valid(body) {
		return nil, jqlgate.Invalid("", "The request body is not valid UTF-8.")
	}
	doc, err := parseDocument(body, lim)
	if err != nil {
		return nil, err
	}
	raw, ok := doc["__meta__"]
	if !ok {
		return nil, jqlgate.Invalid("__meta__", "__meta__ is required: an object naming the namespace, schema and intent.")
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, jqlgate.Invalid("__meta__", "__meta__ must be an object, not %s.", kindOf(raw))
	}
	delete(doc, "__meta__")
	meta, err := decodeMeta(m)
	return &jqlgate.Envelope{Meta: meta, Fields: doc}, err
}

// parser walks a JSON document token by token, so limits apply before a
// hostile document is fully built in memory.
type parser struct {
	dec           *json.Decoder
	lim           Limits
	fields, items int
}

func parseDocument(body []byte, lim Limits) (map[string]any, error) {
	p := &parser{dec: json.NewDecoder(bytes.NewReader(body)), lim: lim}
	p.dec.UseNumber()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.syntaxError(err)
	}
	if tok != json.Delim('{') {
		return nil, jqlgate.Invalid("", "The request body must be a JSON object, not %s.", tokenKind(tok))
	}
	doc, err := p.object("", 1)
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, jqlgate.Invalid("", "The request body has data after the JSON object (at byte %d).", p.dec.InputOffset())
	}
	return doc, nil
}

// value parses the next value; path names it in errors.
func (p *parser) value(path string, depth int) (any, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.syntaxError(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= p.lim.MaxDepth {
			return nil, jqlgate.Invalid(path, "%s nests deeper than %d levels.", orBody(path), p.lim.MaxDepth)
		}
		if t == '{' {
			return p.object(path, depth+1)
		}
		return p.array(path, depth+1)
	case string:
		if len(t) > p.lim.MaxStringBytes {
			return nil, jqlgate.Invalid(path, "%s is longer than %d bytes.", path, p.lim.MaxStringBytes)
		}
	}
	return tok, nil
}

func (p *parser) object(path string, depth int) (map[string]any, error) {
	obj := map[string]any{}
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, p.syntaxError(err)
		}
		key, _ := tok.(string)
		child := joinPath(path, key)
		if err := p.checkKey(obj, key, child); err != nil {
			return nil, err
		}
		if obj[key], err = p.value(child, depth); err != nil {
			return nil, err
		}
	}
	return obj, p.closing()
}

func (p *parser) checkKey(obj map[string]any, key, path string) error {
	if p.fields++; p.fields > p.lim.MaxFields {
		return jqlgate.Invalid("", "The request body has more than %d fields.", p.lim.MaxFields)
	}
	if len(key) > p.lim.MaxKeyBytes {
		return jqlgate.Invalid("", "A key is longer than %d bytes.", p.lim.MaxKeyBytes)
	}
	if _, dup := obj[key]; dup {
		return jqlgate.Invalid(path, "%s appears more than once.", path)
	}
	return nil
}

func (p *parser) array(path string, depth int) ([]any, error) {
	arr := []any{}
	for i := 0; p.dec.More(); i++ {
		if p.items++; p.items > p.lim.MaxItems {
			return nil, jqlgate.Invalid("", "The request body has more than %d array items.", p.lim.MaxItems)
		}
		v, err := p.value(path+"["+strconv.Itoa(i)+"]", depth)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	return arr, p.closing()
}

// closing consumes the '}' or ']' that ends the current container.
func (p *parser) closing() error {
	if _, err := p.dec.Token(); err != nil {
		return p.syntaxError(err)
	}
	return nil
}

func (p *parser) syntaxError(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return jqlgate.Invalid("", "The request body is not valid JSON: %s (at byte %d).", se.Error(), se.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return jqlgate.Invalid("", "The request body is not valid JSON: it ends too soon.")
	}
	return jqlgate.Invalid("", "The request body is not valid JSON.")
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orBody(path string) string {
	if path == "" {
		return "The request body"
	}
	return path
}

// tokenKind names the JSON type a first token starts.
func tokenKind(tok json.Token) string {
	if tok == json.Delim('[') {
		return "an array"
	}
	return kindOf(tok)
}

// kindOf names the JSON type of a decoded value.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

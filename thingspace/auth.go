package thingspace

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/esimgw/esimgw/internal/rest"
)

// HeaderSession is the header that carries the M2M session token.
const HeaderSession = "VZ-M2M-Token"

// credentials is the rest.Authorizer of a Client: the OAuth2 bearer token (client credentials) and the
// M2M session token, each fetched when first needed, renewed before the bearer token's hour ends, and
// both renewed when a call is refused 401 (docs/carriers.md: which of the two was stale is not said, and
// fetching a token is cheap).
type credentials struct {
	cc       clientcredentials.Config
	httpc    *http.Client
	api      *rest.Client // for the session login, sent without the Authorizer
	username string
	password string
	margin   time.Duration
	now      func() time.Time

	mu      sync.Mutex // held while fetching, so one caller fetches and the others wait for its result
	token   *oauth2.Token
	session string
	gen     uint64 // incremented whenever token or session changes

	tokens, logins int // fetches, for Stats
}

// used names the credentials one request was sent with.
type used struct{ gen uint64 }

func (c *credentials) Authorize(ctx context.Context, req *http.Request) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tok, err := c.bearerLocked(ctx)
	if err != nil {
		return nil, err
	}
	if c.session == "" {
		if err := c.loginLocked(ctx); err != nil {
			return nil, err
		}
		tok = c.token
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set(HeaderSession, c.session)
	return used{c.gen}, nil
}

func (c *credentials) Renew(_ context.Context, u any, _ *rest.APIError) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if uu, ok := u.(used); ok && uu.gen == c.gen {
		c.token, c.session = nil, ""
		c.gen++
	}
	return true
}

// bearerLocked returns a token valid for at least margin more, fetching one when needed.
func (c *credentials) bearerLocked(ctx context.Context) (*oauth2.Token, error) {
	if c.token != nil && (c.token.Expiry.IsZero() || c.now().Add(c.margin).Before(c.token.Expiry)) {
		return c.token, nil
	}
	tok, err := c.cc.Token(context.WithValue(ctx, oauth2.HTTPClient, c.httpc))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			return nil, &rest.APIError{Platform: "thingspace", Method: http.MethodPost, Path: c.cc.TokenURL,
				StatusCode: re.Response.StatusCode, Code: re.ErrorCode, Message: re.ErrorDescription}
		}
		return nil, fmt.Errorf("thingspace: OAuth2 token: %w", err)
	}
	if tok.AccessToken == "" {
		return nil, errors.New("thingspace: OAuth2 token: the answer has no access_token")
	}
	c.token = tok
	c.gen++
	c.tokens++
	return tok, nil
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	SessionToken string `json:"sessionToken"`
}

// loginLocked starts an M2M session. A 401 means the bearer token went stale under us: it is fetched
// again and the login tried once more.
func (c *credentials) loginLocked(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.bearerLocked(ctx)
		if err != nil {
			return err
		}
		var out loginResponse
		_, err = c.api.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/session/login", NoAuth: true,
			Header: http.Header{"Authorization": {"Bearer " + tok.AccessToken}},
			Body:   loginRequest{Username: c.username, Password: c.password}}, &out)
		var ae *rest.APIError
		if errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized && attempt == 0 {
			c.token = nil
			continue
		}
		if err != nil {
			return fmt.Errorf("thingspace: session login: %w", err)
		}
		if out.SessionToken == "" {
			return errors.New("thingspace: session login: the answer has no sessionToken")
		}
		c.session = out.SessionToken
		c.gen++
		c.logins++
		return nil
	}
}

// logout ends the session, if one is open.
func (c *credentials) logout(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == "" {
		return nil
	}
	tok, err := c.bearerLocked(ctx)
	if err != nil {
		return err
	}
	_, err = c.api.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/session/logout", NoAuth: true,
		Header: http.Header{"Authorization": {"Bearer " + tok.AccessToken}, HeaderSession: {c.session}}}, nil)
	c.session = ""
	c.gen++
	if err != nil {
		return fmt.Errorf("thingspace: session logout: %w", err)
	}
	return nil
}

func (c *credentials) counts() (tokens, logins int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tokens, c.logins
}

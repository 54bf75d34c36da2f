package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/minewatch/minewatch/web"
)

func newUsersCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Make password hashes and API tokens for the web interface's web.users and web.tokens",
		Long: `The web interface asks for a login when it listens beyond loopback (or with
web.auth: required). Accounts live in the config under web.users, API tokens
under web.tokens; neither passwords nor tokens are ever written in the file:
users carry an argon2id hash, tokens their SHA-256 or the name of the
environment variable that holds them.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "hash-password",
		Short: "Read a password (without echo on a terminal) and print its argon2id hash",
		Long: `hash-password reads a password, twice and without echo when stdin is a
terminal, else the first line of stdin, and prints its argon2id hash in PHC
format for a user's password_hash.`,
		Example: `  minewatch users hash-password
  printf '%s\n' "$PASSWORD" | minewatch users hash-password

  # then, in minewatch.yaml:
  web:
    users:
      - name: ana
        role: admin
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$…"`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			pw, err := g.readSecret("Password: ", true)
			if err != nil {
				return err
			}
			h, err := web.HashPassword(pw, web.DefaultArgon2)
			if err != nil {
				return usageError{err}
			}
			_, err = fmt.Fprintln(g.stdout, h)
			return err
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "new-token",
		Short: "Print a new random API token and its SHA-256 for token_hash",
		Long: `new-token prints a fresh random API token on the first line and its SHA-256
on the second. Give the token to the program that calls the API (it sends
"Authorization: Bearer <token>"), and put either the hash in token_hash or the
token in an environment variable named by token_env.`,
		Example: `  minewatch users new-token`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			tok := web.NewToken()
			_, err := fmt.Fprintf(g.stdout, "%s\n%s\n", tok, web.HashToken(tok))
			return err
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:     "hash-token",
		Short:   "Read an API token and print its SHA-256 for token_hash",
		Example: `  printf '%s\n' "$TOKEN" | minewatch users hash-token`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			tok, err := g.readSecret("Token: ", false)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(g.stdout, web.HashToken(tok))
			return err
		},
	})
	return cmd
}

// readSecret reads a secret without echo from a terminal (twice when
// confirm is set), else the first line of stdin.
func (g *globals) readSecret(prompt string, confirm bool) (string, error) {
	if f, ok := g.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		read := func(p string) (string, error) {
			fmt.Fprint(g.stderr, p)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(g.stderr)
			if err != nil {
				return "", fmt.Errorf("read from terminal: %w", err)
			}
			return string(b), nil
		}
		s, err := read(prompt)
		if err != nil {
			return "", err
		}
		if confirm {
			again, err := read("Again: ")
			if err != nil {
				return "", err
			}
			if again != s {
				return "", usageError{errors.New("the two entries differ")}
			}
		}
		if s == "" {
			return "", usageError{errors.New("empty input")}
		}
		return s, nil
	}
	line, err := bufio.NewReader(io.LimitReader(g.stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError{errors.New("nothing on stdin: pipe the secret in, or run on a terminal to be asked for it")}
	}
	return line, nil
}

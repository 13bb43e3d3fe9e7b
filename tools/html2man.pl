#!/usr/bin/perl
#
# ISC license: see COPYING.
#
# tools/html2man.pl [ -V version ] outdir
#
# Writes the manual pages of holdingpen into outdir from the HTML pages of
# doc/, which stay the one source: the programs' pages and the pool
# directory's. Every section of a page (h2) becomes a section of its
# manual page; paragraphs, lists, definition lists, preformatted blocks and
# tables become their man(7) counterparts (tables through tbl); <tt> and
# <strong> are bold, <em> is italic. The NAME line is the program's name
# and the first sentence of the page's first paragraph; SEE ALSO names the
# manual pages the page links to, and the HTML page itself.
# Run from anywhere; reads doc/ next to this script's directory.
#
# Exit codes: 0 done, 100 wrong usage, 111 system call failed.

use strict;
use warnings;
use File::Basename qw(dirname);

my $PROG = 'html2man.pl';
sub fatal { print STDERR "$PROG: fatal: @_\n"; exit 111 }
sub usage { print STDERR "usage: $PROG [ -V version ] outdir\n"; exit 100 }

# page => [ manual page name, section ]
our %PAGES = (
  'holdingpen-claim'  => [ 'holdingpen-claim', 1 ],
  'holdingpen-status' => [ 'holdingpen-status', 1 ],
  'holdingpen-revoke' => [ 'holdingpen-revoke', 8 ],
  'holdingpen-daemon' => [ 'holdingpen-daemon', 8 ],
  'holdingpend'       => [ 'holdingpend', 8 ],
  'holdingpen-helper' => [ 'holdingpen-helper', 8 ],
  'pooldir'           => [ 'holdingpen-pooldir', 5 ],
);

my $top = dirname(dirname(__FILE__));
my $version;
while (@ARGV && $ARGV[0] =~ /^-/) {
  my $o = shift @ARGV;
  if ($o eq '-V') { $version = shift @ARGV; usage() unless defined $version }
  elsif ($o eq '--') { last }
  else { usage() }
}
usage() unless @ARGV == 1;
my $outdir = $ARGV[0];
unless (defined $version) {
  open my $h, '<', "$top/package/info" or fatal("unable to open $top/package/info: $!");
  while (<$h>) { $version = $1 if /^version=(\S+)/ }
  fatal("no version in $top/package/info") unless defined $version;
}
-d $outdir or mkdir $outdir or fatal("unable to create $outdir: $!");

for my $page (sort keys %PAGES) {
  my ($name, $sec) = @{$PAGES{$page}};
  open my $h, '<', "$top/doc/$page.html" or fatal("unable to open doc/$page.html: $!");
  my $html = do { local $/; <$h> };
  close $h;
  my $roff = convert($html, $page, $name, $sec);
  my $out = "$outdir/$name.$sec";
  open my $o, '>', "$out.tmp" or fatal("unable to create $out.tmp: $!");
  print $o $roff or fatal("unable to write $out.tmp: $!");
  close $o or fatal("unable to write $out.tmp: $!");
  rename "$out.tmp", $out or fatal("unable to rename $out.tmp: $!");
  print "$out\n";
}
exit 0;

# --- conversion -----------------------------------------------------------

sub entities {
  my ($s) = @_;
  $s =~ s/&nbsp;/\x{1}/g;          # an unbreakable space, made "\ " at the end
  $s =~ s/&lt;/</g;
  $s =~ s/&gt;/>/g;
  $s =~ s/&quot;/"/g;
  $s =~ s/&rarr;/\x{2}/g;
  $s =~ s/&times;/\x{3}/g;
  $s =~ s/&#(\d+);/chr($1)/ge;
  $s =~ s/&amp;/&/g;
  return $s;
}

# text as roff: backslashes escaped, minus signs where they are code
sub esc {
  my ($s, $code) = @_;
  $s = entities($s);
  $s =~ s/\\/\\e/g;
  $s =~ s/-/\\-/g if $code;
  $s =~ s/\x{1}/\\ /g;
  $s =~ s/\x{2}/\\(->/g;
  $s =~ s/\x{3}/\\(mu/g;
  return $s;
}

sub plain {
  my ($s) = @_;
  $s =~ s/<[^>]*>//g;
  $s = entities($s);
  $s =~ s/[\x{1}\s]+/ /g;
  $s =~ s/\x{2}/->/g;
  $s =~ s/\x{3}/x/g;
  $s =~ s/^ //; $s =~ s/ $//;
  return $s;
}

sub convert {
  my ($html, $page, $name, $sec) = @_;
  $html =~ s/<!--.*?-->//gs;
  $html =~ s/^.*?<body[^>]*>//s;
  $html =~ s/<\/body>.*$//s;
  # the navigation links before the title
  $html =~ s/^\s*<p>\s*<a href="index.html">.*?<\/p>//s;
  my ($title) = $html =~ /<h1[^>]*>(.*?)<\/h1>/s;
  fatal("doc/$page.html: no <h1>") unless defined $title;
  $html =~ s/^.*?<\/h1>//s;
  # NAME: the first sentence of the first paragraph
  my ($first) = $html =~ /<p>(.*?)<\/p>/s;
  fatal("doc/$page.html: no paragraph after the title") unless defined $first;
  my $summary = plain($first);
  $summary =~ s/^\Q$name\E\s+//;
  $summary =~ s/^(.*?[.:])(\s.*)?$/$1/;
  $summary =~ s/[.:]$//;
  my $quser = uc $name;

  my @out;
  push @out, "'\\\" t";
  push @out, ".\\\" Made by tools/html2man.pl from doc/$page.html, which is the source: edit that page.";
  push @out, ".TH $quser $sec \"\" \"holdingpen $version\" \"holdingpen\"";
  push @out, '.nh';
  push @out, '.SH NAME';
  push @out, esc($name, 1) . ' \\- ' . esc($summary, 0);
  push @out, '.SH DESCRIPTION';

  my @font = ('R');           # font stack
  my $code = 0;               # inside <tt> or <pre>: minus signs
  my $pre = 0;
  my @lists;                  # 'ul' or ['ol', n]
  my $buf = '';
  my $table;                  # rows of cells while in a table
  my $cell;
  my $needpp = 0;
  my %links;

  my $flush = sub {
    my $t = $buf;
    $buf = '';
    if ($pre) { return }
    $t =~ s/\s+/ /g;
    $t =~ s/^ //; $t =~ s/ $//;
    return if $t eq '' || $t =~ /^(\\f[RBI])+$/;
    if ($needpp) { push @out, '.PP'; $needpp = 0 }
    $t =~ s/^([.'])/\\&$1/;
    push @out, $t;
  };
  my $block = sub { $flush->(); push @out, @_ };

  my @tok = split /(<[^>]*>)/, $html;
  for my $tok (@tok) {
    if ($tok !~ /^</) {
      my $t = esc($tok, $code);
      if (defined $cell) { $cell .= $t }
      elsif ($pre) {
        $buf .= $t;
        # whole lines out, as they are
        while ($buf =~ s/^(.*?)\n//) {
          my $l = $1;
          $l =~ s/^([.'])/\\&$1/;
          push @out, $l;
        }
      }
      else { $buf .= $t }
      next;
    }
    my ($close, $tag, $attrs) = $tok =~ /^<(\/?)([a-zA-Z0-9]+)\s*(.*?)\/?>$/s;
    next unless defined $tag;
    $tag = lc $tag;
    if ($tag eq 'a') {
      if (!$close && $attrs =~ /href="([^"#:]+)\.html/) { $links{$1} = 1 }
      next;
    }
    if ($tag =~ /^(tt|code|strong|b|em|i|var)$/) {
      my $f = $tag =~ /^(em|i|var)$/ ? 'I' : 'B';
      my $s;
      if ($close) {
        pop @font if @font > 1;
        $s = '\\f' . $font[-1];
        $code-- if $tag =~ /^(tt|code)$/ && $code > 0;
      } else {
        push @font, $f;
        $s = '\\f' . $f;
        $code++ if $tag =~ /^(tt|code)$/;
      }
      if (defined $cell) { $cell .= $s } else { $buf .= $s }
      next;
    }
    if ($tag eq 'sup') { my $s = $close ? '' : '^'; if (defined $cell) { $cell .= $s } else { $buf .= $s } ; next }
    if ($tag =~ /^h([234])$/) {
      my $level = $1;
      if ($close) {
        my $t = $buf; $buf = '';
        $t =~ s/\\f[RBI]//g; $t =~ s/\s+/ /g; $t =~ s/^ //; $t =~ s/ $//;
        $t =~ s/"/\\(dq/g;
        push @out, ($level eq "2" ? '.SH "' . uc($t) . '"' : '.SS "' . $t . '"');
        $needpp = 0;
      } else { $flush->() }
      next;
    }
    if ($tag eq 'p' || $tag eq 'div') {
      $flush->();
      if (!$close) { $needpp = 1 unless @lists }
      next;
    }
    if ($tag eq 'br') { $block->('.br') if !$pre; $buf .= "\n" if $pre; next }
    if ($tag eq 'hr') { $flush->(); next }
    if ($tag eq 'pre') {
      if ($close) {
        push @out, $buf if $buf =~ /\S/;
        $buf = '';
        $pre = 0; $code--;
        push @out, '.fi', '.RE';
        $needpp = 1;
      } else {
        $flush->();
        push @out, (@lists ? '.IP' : '.PP'), '.RS 2', '.nf';
        $pre = 1; $code++;
        $tok = '';
      }
      next;
    }
    if ($tag eq 'ul' || $tag eq 'ol' || $tag eq 'dl') {
      $flush->();
      if ($close) {
        pop @lists;
        push @out, '.RE' if @lists;
        $needpp = 1;
      } else {
        push @out, '.RS' if @lists;
        push @lists, $tag eq 'ol' ? ['ol', 0] : $tag;
        $needpp = 0;
      }
      next;
    }
    if ($tag eq 'li') {
      $flush->();
      next if $close;
      my $l = $lists[-1] // 'ul';
      if (ref $l) { $l->[1]++; push @out, ".IP $l->[1]. 4" } else { push @out, '.IP \\(bu 2' }
      $needpp = 0;
      next;
    }
    if ($tag eq 'dt') {
      if ($close) {
        my $t = $buf; $buf = '';
        $t =~ s/\s+/ /g; $t =~ s/^ //; $t =~ s/ $//;
        push @out, '.TP', $t;
      } else { $flush->() }
      next;
    }
    if ($tag eq 'dd') { $flush->(); $needpp = 0; next }
    if ($tag eq 'table') {
      if ($close) {
        my $ncol = 0;
        for my $r (@$table) { $ncol = @$r if @$r > $ncol }
        push @out, '.PP', '.na', '.TS', 'allbox tab(|);', join(' ', ('lx') x $ncol) . '.';
        for my $r (@$table) {
          # long names (metrics, paths) may break after _ or / in a narrow column
          my @c = map { my $c = $_; $c =~ s/([_\/,|{=])/$1\\:/g; $c =~ s/\s+/ /g; $c =~ s/^ //; $c =~ s/ $//; "T{\n$c\nT}" } @$r;
          push @c, '' while @c < $ncol;
          push @out, join('|', @c);
        }
        push @out, '.TE', '.ad';
        $table = undef;
        $needpp = 1;
      } else { $flush->(); $table = [] }
      next;
    }
    if ($tag eq 'tr') { push @$table, [] if !$close && $table; next }
    if ($tag eq 'td' || $tag eq 'th') {
      if ($close) {
        $cell = "\\fB$cell\\fR" if $tag eq 'th' && defined $cell;
        push @{$table->[-1]}, $cell if $table && defined $cell;
        $cell = undef;
      } else { $cell = '' }
      next;
    }
  }
  $flush->();

  # SEE ALSO: the manual pages this page links to, and the page itself
  my @see = map { "\\fB" . esc($PAGES{$_}[0], 1) . "\\fR($PAGES{$_}[1])" }
    grep { $_ ne $page && exists $PAGES{$_} } sort keys %links;
  push @out, '.SH "SEE ALSO"';
  push @out, join(",\n", @see) . ',' if @see;
  push @out, 'and the HTML documentation, of which this page is a copy:',
    "\\fI/usr/share/doc/holdingpen/html/$page.html\\fR,",
    'with its index, \\fI/usr/share/doc/holdingpen/html/index.html\\fR.';
  # no empty line: to roff, it is a blank line in the output
  return join("\n", grep { $_ ne '' } @out) . "\n";
}

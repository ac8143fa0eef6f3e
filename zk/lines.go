package zk

import "bytes"

// eachLine calls fn with every line of answer, as bufio.ScanLines splits
// them (a trailing "\r" dropped, a last line without "\n" included), without
// copying: the line aliases answer and is valid only during the call.
func eachLine(answer []byte, fn func(line []byte) error) error {
	for len(answer) > 0 {
		line := answer
		if end := bytes.IndexByte(answer, '\n'); end >= 0 {
			line, answer = answer[:end], answer[end+1:]
		} else {
			answer = nil
		}
		if err := fn(bytes.TrimSuffix(line, []byte{'\r'})); err != nil {
			return err
		}
	}
	return nil
}
